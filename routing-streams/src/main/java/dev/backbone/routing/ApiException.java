package dev.backbone.routing;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error response of the REST API: an HTTP status and a JSON body {@code {"error": ..., "message": ..., ...}} with
 * extra fields. Thrown by the route handlers and written by {@link RoutingApiHandler}.
 */
final class ApiException extends RuntimeException {

    static final String RETRY_AFTER_SECONDS = "1";

    private final int status;
    private final String error;
    private final Map<String, Object> fields;
    private final Map<String, String> headers;

    private ApiException(int status, String error, String message, Map<String, Object> fields,
                         Map<String, String> headers) {
        super(message);
        this.status = status;
        this.error = error;
        this.fields = fields;
        this.headers = headers;
    }

    /** Returns a 400 error naming the invalid field, its value and what is accepted. */
    static ApiException invalidField(InvalidFieldException e) {
        var fields = new LinkedHashMap<String, Object>();
        fields.put("field", e.field());
        fields.put("value", e.value());
        fields.put("accepted", e.accepted());
        return new ApiException(400, "invalid_field", e.getMessage(), fields, Map.of());
    }

    /** Returns a 400 error for a body that cannot be read as the JSON expected. */
    static ApiException badRequest(String message) {
        return new ApiException(400, "bad_request", message, Map.of(), Map.of());
    }

    static ApiException unauthorized(String message) {
        return new ApiException(401, "unauthorized", message, Map.of(),
                Map.of("WWW-Authenticate", "Bearer realm=\"backbone-routing\""));
    }

    static ApiException forbidden(String message) {
        return new ApiException(403, "forbidden", message, Map.of(), Map.of());
    }

    static ApiException notFound(String message, Map<String, Object> fields) {
        return new ApiException(404, "not_found", message, fields, Map.of());
    }

    static ApiException methodNotAllowed(String method, String path, String allowed) {
        return new ApiException(405, "method_not_allowed", "method " + method + " is not allowed on " + path
                + "; allowed: " + allowed, Map.of("allowed", allowed), Map.of("Allow", allowed));
    }

    static ApiException payloadTooLarge(long maxBytes) {
        return new ApiException(413, "payload_too_large", "request body exceeds the limit of " + maxBytes + " bytes",
                Map.of("limit", maxBytes), Map.of());
    }

    /** Returns a 503 error with {@code Retry-After}, for state that is migrating or a Kafka write that failed. */
    static ApiException unavailable(String message) {
        return new ApiException(503, "unavailable", message, Map.of(), Map.of("Retry-After", RETRY_AFTER_SECONDS));
    }

    int status() {
        return status;
    }

    Map<String, String> headers() {
        return headers;
    }

    /** Returns the JSON body: {@code error}, {@code message}, then the extra fields. */
    Map<String, Object> body() {
        var body = new LinkedHashMap<String, Object>();
        body.put("error", error);
        body.put("message", getMessage());
        body.putAll(fields);
        return body;
    }
}
