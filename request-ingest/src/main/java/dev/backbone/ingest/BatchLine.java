package dev.backbone.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.HashSet;
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

    private static final JsonFactory JSON = new JsonFactory();

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
            var seen = new HashSet<String>();
            while (json.nextToken() == JsonToken.FIELD_NAME) {
                String field = json.currentName();
                if (!seen.add(field)) {
                    throw duplicate(BatchLineValidation.shown(field));
                }
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
                        throw new BatchLineException("unknown field '" + shown + "'",
                                Map.of("field", shown, "value", shown, "accepted", ACCEPTED));
                    }
                }
            }
            if (json.currentToken() != JsonToken.END_OBJECT) {
                throw lineError("the line is not valid JSON: it ends inside the object");
            }
            afterObject(json);
        } catch (JsonProcessingException e) {
            throw lineError("the line is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw lineError("cannot read the line: " + e.getMessage());
        }
        return new BatchLine(method, path, host, clientId, region, country, headers, body);
    }

    /** Checks that nothing but whitespace follows the line's object, such as the comma of a JSON array's element. */
    private static void afterObject(JsonParser json) throws BatchLineException {
        try {
            if (json.nextToken() == null) {
                return;
            }
        } catch (IOException e) {
            // Not even a token, such as a trailing comma: reported as below.
        }
        throw lineError("text follows the JSON object; send one JSON object per line, without commas or brackets "
                + "between them, and keep the line ends (curl: --data-binary @FILE, not -d)");
    }

    private static BatchLineException duplicate(String field) {
        return new BatchLineException("field '" + field + "' occurs twice", Map.of("field", field, "value", field,
                "accepted", "each field once"));
    }

    private static String text(JsonParser json, String field) throws IOException, BatchLineException {
        return switch (json.currentToken()) {
            case VALUE_STRING -> json.getText();
            case VALUE_NULL -> null;
            default -> throw wrongType(field, "a string", json);
        };
    }

    private static Map<String, String> headers(JsonParser json) throws IOException, BatchLineException {
        if (json.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        if (json.currentToken() != JsonToken.START_OBJECT) {
            throw wrongType("headers", "an object of header names and string values", json);
        }
        var headers = new LinkedHashMap<String, String>();
        while (json.nextToken() == JsonToken.FIELD_NAME) {
            String name = json.currentName();
            if (json.nextToken() != JsonToken.VALUE_STRING) {
                throw wrongType("headers." + BatchLineValidation.shown(name), "a string", json);
            }
            if (headers.put(name, json.getText()) != null) {
                throw duplicate("headers." + BatchLineValidation.shown(name));
            }
        }
        return headers;
    }

    /** Returns the error of a field whose JSON value, at the parser's current token, has the wrong type. */
    private static BatchLineException wrongType(String field, String expected, JsonParser json) throws IOException {
        String found = switch (json.currentToken()) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_NULL -> "null";
            default -> json.getText();
        };
        String shown = BatchLineValidation.shown(found);
        return new BatchLineException("field '" + field + "' must be " + expected + ", not " + shown,
                Map.of("field", field, "value", shown, "accepted", expected));
    }

    private static BatchLineException lineError(String message) {
        return new BatchLineException(message, Map.of("field", "line", "accepted", ACCEPTED));
    }
}
