package dev.backbone.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line of a batch: a JSON object whose fields are all strings, except {@code headers}, an object of strings. Absent
 * fields and JSON nulls are null. Read with Jackson's streaming parser, because binding it to a record took a fifth
 * of the batch endpoint's time in a CPU profile.
 */
record BatchLine(String method, String path, String host, String clientId, String region, String country,
                 Map<String, String> headers, String body) {

    static final String ACCEPTED = "a JSON object with \"path\" (required, such as \"/products/42?currency=EUR\") "
            + "and optional \"method\", \"host\", \"clientId\", \"region\", \"country\", \"headers\" and \"body\"";

    /** Rejects a field that occurs twice in one object, such as two "path" fields or two headers of the same name. */
    private static final JsonFactory JSON = JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** Reads one line from {@code length} bytes of {@code bytes} at {@code offset}. */
    static BatchLine parse(byte[] bytes, int offset, int length) throws BatchLineException {
        String method = null;
        String path = null;
        String host = null;
        String clientId = null;
        String region = null;
        String country = null;
        Map<String, String> headers = null;
        String body = null;
        try (JsonParser json = JSON.createParser(bytes, offset, length)) {
            if (json.nextToken() != JsonToken.START_OBJECT) {
                throw lineError("the line is not a JSON object");
            }
            while (json.nextToken() == JsonToken.FIELD_NAME) {
                String field = json.currentName();
                json.nextToken();
                switch (field) {
                    case "method" -> method = text(json, field);
                    case "path" -> path = text(json, field);
                    case "host" -> host = text(json, field);
                    case "clientId" -> clientId = text(json, field);
                    case "region" -> region = text(json, field);
                    case "country" -> country = text(json, field);
                    case "headers" -> headers = headers(json);
                    case "body" -> body = text(json, field);
                    default -> {
                        String shown = BatchLineValidation.shown(field);
                        throw new BatchLineException("unknown field '" + shown + "'", Map.of("field", shown, "accepted", ACCEPTED));
                    }
                }
            }
            if (json.currentToken() != JsonToken.END_OBJECT || json.nextToken() != null) {
                throw lineError("the line has more than one JSON value");
            }
        } catch (JsonProcessingException e) {
            throw lineError("the line is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw lineError("cannot read the line: " + e.getMessage());
        }
        return new BatchLine(method, path, host, clientId, region, country, headers, body);
    }

    private static String text(JsonParser json, String field) throws IOException, BatchLineException {
        return switch (json.currentToken()) {
            case VALUE_STRING -> json.getText();
            case VALUE_NULL -> null;
            default -> throw wrongType(field, "a string");
        };
    }

    private static Map<String, String> headers(JsonParser json) throws IOException, BatchLineException {
        if (json.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        if (json.currentToken() != JsonToken.START_OBJECT) {
            throw wrongType("headers", "an object of header names and string values");
        }
        var headers = new LinkedHashMap<String, String>();
        while (json.nextToken() == JsonToken.FIELD_NAME) {
            String name = json.currentName();
            JsonToken value = json.nextToken();
            if (value != JsonToken.VALUE_STRING && value != JsonToken.VALUE_NULL) {
                throw wrongType("headers." + BatchLineValidation.shown(name), "a string");
            }
            // A null value is kept, so that the header check names it.
            headers.put(name, value == JsonToken.VALUE_NULL ? null : json.getText());
        }
        return headers;
    }

    private static BatchLineException wrongType(String field, String expected) {
        return new BatchLineException("field '" + field + "' must be " + expected, Map.of("field", field, "accepted", ACCEPTED));
    }

    private static BatchLineException lineError(String message) {
        return new BatchLineException(message, Map.of("field", "line", "accepted", ACCEPTED));
    }
}
