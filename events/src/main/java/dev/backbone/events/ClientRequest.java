package dev.backbone.events;

import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.Map;
import java.util.Objects;

/**
 * A client's HTTP request as it entered the front door.
 *
 * @param schemaVersion  event schema version, {@link #SCHEMA_VERSION} for events written by this code
 * @param requestId      unique id the response is correlated by
 * @param clientId       the client, from the {@code X-Client-Id} header; also the record key
 * @param region         the client's region, such as {@code eu-west}
 * @param country        the client's ISO 3166 country code, such as {@code DE}
 * @param host           the site named by the {@code Host} header, without a port
 * @param method         the HTTP method, upper case
 * @param path           the request path, starting with {@code /}
 * @param query          the raw query string without {@code ?}, or an empty string
 * @param headers        request headers, names in lower case
 * @param body           the request body as UTF-8 text, or {@code null} when there is none
 * @param ingestId       the front-door instance that published the request, and waits for the answer unless the id
 *                       starts with {@link #UNAWAITED_ID_PREFIX}
 * @param replyPartition the partition of {@code backbone.responses} that instance reads
 * @param receivedAtMs   wall-clock time the front door received the request, epoch milliseconds
 * @param deadlineAtMs   wall-clock time after which the front door has answered 504, epoch milliseconds, after which
 *                       app servers skip the request; 0 for no deadline, as for the lines of a batch
 */
@JsonSerialize(using = ClientRequestSerializer.class)
public record ClientRequest(
        int schemaVersion,
        String requestId,
        String clientId,
        String region,
        String country,
        String host,
        String method,
        String path,
        String query,
        Map<String, String> headers,
        String body,
        String ingestId,
        int replyPartition,
        long receivedAtMs,
        long deadlineAtMs) {

    public static final int SCHEMA_VERSION = 1;

    /**
     * Prefix of the ids of requests that nobody waits for: lines of the front door's batch endpoint, and requests that
     * {@code backbone load} and {@code backbone replay} produce straight to Kafka. Their answers still go to
     * {@code backbone.responses}. Other request ids are UUIDs, which start with eight hex digits, never with this.
     */
    public static final String UNAWAITED_ID_PREFIX = "a-";

    public ClientRequest {
        Events.requireSchemaVersion(schemaVersion, SCHEMA_VERSION, "ClientRequest");
        Events.requireText(requestId, "requestId");
        Events.requireText(clientId, "clientId");
        Events.requireText(host, "host");
        Events.requireText(method, "method");
        Events.requireText(path, "path");
        region = Objects.requireNonNullElse(region, "");
        country = Objects.requireNonNullElse(country, "");
        query = Objects.requireNonNullElse(query, "");
        headers = headers == null ? Map.of() : Map.copyOf(headers);
        if (replyPartition < 0) {
            throw new IllegalArgumentException("replyPartition must be >= 0, got " + replyPartition);
        }
    }

    /** Returns the value of a header, matched case-insensitively, or {@code null}. */
    public String header(String name) {
        return headers.get(name.toLowerCase(java.util.Locale.ROOT));
    }
}
