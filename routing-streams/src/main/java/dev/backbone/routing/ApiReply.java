package dev.backbone.routing;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.backbone.events.Json;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * A successful response of the REST API.
 *
 * @param status      the HTTP status
 * @param contentType the {@code Content-Type} header
 * @param body        the body bytes
 */
record ApiReply(int status, String contentType, byte[] body) {

    static final String JSON = "application/json";

    /** Returns a 200 response with a value written by {@link Json#mapper()}. */
    static ApiReply json(Object value) {
        return json(200, value);
    }

    static ApiReply json(int status, Object value) {
        try {
            return new ApiReply(status, JSON, Json.mapper().writeValueAsBytes(value));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot write the response as JSON", e);
        }
    }

    static ApiReply text(String contentType, String text) {
        return new ApiReply(200, contentType, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Returns the body of an {@link ApiException} as a response. */
    static ApiReply error(ApiException e) {
        return json(e.status(), e.body());
    }

    /** Returns a JSON response from another instance unchanged, for forwarded queries. */
    static ApiReply forwarded(int status, byte[] jsonBody) {
        return new ApiReply(status, JSON, jsonBody);
    }
}
