package dev.backbone.events;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The answer to one {@link ClientRequest}, written to the front door's reply partition.
 *
 * @param schemaVersion event schema version, {@link #SCHEMA_VERSION} for events written by this code
 * @param requestId     the id of the request this answers
 * @param status        the HTTP status code
 * @param headers       response headers to send, such as {@code content-type} or {@code location}
 * @param body          the response body as UTF-8 text, or an empty string
 * @param servedBy      what produced the answer: an app-server id, or {@code routing} for routing errors
 * @param answeredAtMs  wall-clock time the answer was produced, epoch milliseconds
 */
public record ClientResponse(
        int schemaVersion,
        String requestId,
        int status,
        Map<String, String> headers,
        String body,
        String servedBy,
        long answeredAtMs) {

    public static final int SCHEMA_VERSION = 1;

    public ClientResponse {
        Events.requireSchemaVersion(schemaVersion, SCHEMA_VERSION, "ClientResponse");
        Events.requireText(requestId, "requestId");
        if (status < 100 || status > 599) {
            throw new IllegalArgumentException("status must be an HTTP status code from 100 to 599, got " + status);
        }
        headers = headers == null ? Map.of() : Map.copyOf(headers);
        body = body == null ? "" : body;
    }

    /**
     * Adds error detail fields to {@code json} in a fixed order: {@code field}, {@code value} and {@code accepted}
     * first, then the others by name, because the iteration order of {@link Map#of} changes from one JVM run to the
     * next. Does nothing for null.
     */
    public static void putFields(ObjectNode json, Map<String, String> fields) {
        if (fields == null) {
            return;
        }
        var rest = new TreeMap<>(fields);
        for (String first : List.of("field", "value", "accepted")) {
            String value = rest.remove(first);
            if (value != null) {
                json.put(first, value);
            }
        }
        rest.forEach(json::put);
    }

    /** Builds a JSON error answer: {@code {"error": ..., "message": ...}} plus extra string fields. */
    public static ClientResponse error(String requestId, int status, String error, String message,
                                       Map<String, String> extraFields, String servedBy, long nowMs) {
        var json = Json.mapper().createObjectNode();
        json.put("error", error);
        json.put("message", message);
        putFields(json, extraFields);
        return new ClientResponse(SCHEMA_VERSION, requestId, status,
                Map.of("content-type", "application/json"), json.toString(), servedBy, nowMs);
    }
}
