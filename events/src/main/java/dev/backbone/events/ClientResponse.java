package dev.backbone.events;

import java.util.Map;

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

    /** Builds a JSON error answer: {@code {"error": ..., "message": ...}} plus extra string fields. */
    public static ClientResponse error(String requestId, int status, String error, String message,
                                       Map<String, String> extraFields, String servedBy, long nowMs) {
        var json = Json.mapper().createObjectNode();
        json.put("error", error);
        json.put("message", message);
        if (extraFields != null) {
            extraFields.forEach(json::put);
        }
        return new ClientResponse(SCHEMA_VERSION, requestId, status,
                Map.of("content-type", "application/json"), json.toString(), servedBy, nowMs);
    }
}
