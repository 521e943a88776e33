package dev.backbone.appserver;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.Json;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds the responses of one app server, stamped with its id and the time. Thread-safe. */
final class Responses {

    static final String CONTENT_TYPE = "content-type";
    static final String JSON = "application/json";

    private final String serverId;
    private final Clock clock;

    Responses(String serverId, Clock clock) {
        this.serverId = serverId;
        this.clock = clock;
    }

    /** Returns {@code body} written as JSON, with {@code headers} besides the content type. */
    ClientResponse json(ClientRequest request, int status, Object body, Map<String, String> headers) {
        String text;
        try {
            text = Json.mapper().writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a " + body.getClass().getSimpleName() + " as JSON", e);
        }
        var allHeaders = new LinkedHashMap<String, String>();
        allHeaders.put(CONTENT_TYPE, JSON);
        allHeaders.putAll(headers);
        return response(request, status, allHeaders, text);
    }

    ClientResponse response(ClientRequest request, int status, Map<String, String> headers, String body) {
        return new ClientResponse(ClientResponse.SCHEMA_VERSION, request.requestId(), status, headers, body, serverId,
                clock.millis());
    }

    /** Returns a JSON error {@code {"error": ..., "message": ..., FIELDS}}. */
    ClientResponse error(ClientRequest request, int status, String error, String message, Map<String, String> fields) {
        return ClientResponse.error(request.requestId(), status, error, message, fields, serverId, clock.millis());
    }

    /** Returns 400 naming the invalid field, its value and what is accepted. */
    ClientResponse invalid(ClientRequest request, InvalidInputException e) {
        return error(request, 400, "invalid_input", e.getMessage(),
                Map.of("field", e.field(), "value", e.value(), "accepted", e.accepted()));
    }

    ClientResponse notFound(ClientRequest request, String resource, Map<String, String> fields) {
        return error(request, 404, "not_found", resource + " not found", fields);
    }

    /** Returns a copy of {@code response} with more headers. */
    static ClientResponse withHeaders(ClientResponse response, Map<String, String> headers) {
        var allHeaders = new LinkedHashMap<>(response.headers());
        allHeaders.putAll(headers);
        return new ClientResponse(response.schemaVersion(), response.requestId(), response.status(), allHeaders,
                response.body(), response.servedBy(), response.answeredAtMs());
    }
}
