package dev.backbone.appserver;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import dev.backbone.storage.NewProduct;
import dev.backbone.storage.ProductUpdate;
import java.util.Iterator;
import java.util.Map;

/** Parses the JSON bodies of {@code POST /products} and {@code PUT /products/{id}}. */
final class ProductBodyParser {

    static final String FIELDS = "name, description, priceCents, stock";
    static final String NEW_FIELDS = "categoryId, name, description, priceCents, stock";
    private static final String BODY_ACCEPTED = "a JSON object with any of " + FIELDS;
    private static final String NEW_BODY_ACCEPTED = "a JSON object with categoryId, name, priceCents, stock and"
            + " optionally description";
    private static final String CATEGORY_ACCEPTED = "an integer from 0 to " + Long.MAX_VALUE;
    private static final String NAME_ACCEPTED = "a non-blank string of at most " + ProductUpdate.MAX_NAME_LENGTH
            + " characters, without NUL (U+0000) or unpaired surrogates";
    private static final String DESCRIPTION_ACCEPTED = "a string of at most " + ProductUpdate.MAX_DESCRIPTION_LENGTH
            + " characters, without NUL (U+0000) or unpaired surrogates";
    private static final String PRICE_ACCEPTED = "an integer from 0 to " + Long.MAX_VALUE;
    private static final String STOCK_ACCEPTED = "an integer from 0 to " + Integer.MAX_VALUE;

    private ProductBodyParser() {
    }

    /**
     * Parses the body of {@code PUT /products/{id}}: any of the changeable fields.
     *
     * @throws InvalidInputException naming the first invalid field, its value and what is accepted
     */
    static ProductUpdate parseUpdate(String body) throws InvalidInputException {
        JsonNode root = parseObject(body, BODY_ACCEPTED);

        String name = null;
        String description = null;
        Long priceCents = null;
        Integer stock = null;
        for (Iterator<Map.Entry<String, JsonNode>> fields = root.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode value = field.getValue();
            switch (field.getKey()) {
                case "name" -> name = parseName(value);
                case "description" -> description = parseDescription(value);
                case "priceCents" -> priceCents = parsePrice(value);
                case "stock" -> stock = parseStock(value);
                default -> throw new InvalidInputException("field " + field.getKey() + " cannot be changed",
                        field.getKey(), value.toString(), "one of " + FIELDS);
            }
        }
        if (name == null && description == null && priceCents == null && stock == null) {
            throw new InvalidInputException("request body changes nothing", "body", body, BODY_ACCEPTED);
        }
        return new ProductUpdate(name, description, priceCents, stock);
    }

    /**
     * Parses the body of {@code POST /products}: every field but {@code description}, which defaults to empty.
     *
     * @throws InvalidInputException naming the first missing or invalid field, its value and what is accepted
     */
    static NewProduct parseNew(String body) throws InvalidInputException {
        JsonNode root = parseObject(body, NEW_BODY_ACCEPTED);
        Long categoryId = null;
        String name = null;
        String description = "";
        Long priceCents = null;
        Integer stock = null;
        for (Iterator<Map.Entry<String, JsonNode>> fields = root.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode value = field.getValue();
            switch (field.getKey()) {
                case "categoryId" -> categoryId = parseCategoryId(value);
                case "name" -> name = parseName(value);
                case "description" -> description = parseDescription(value);
                case "priceCents" -> priceCents = parsePrice(value);
                case "stock" -> stock = parseStock(value);
                default -> throw new InvalidInputException("field " + field.getKey() + " cannot be set",
                        field.getKey(), value.toString(), "one of " + NEW_FIELDS);
            }
        }
        requirePresent(categoryId, "categoryId", CATEGORY_ACCEPTED);
        requirePresent(name, "name", NAME_ACCEPTED);
        requirePresent(priceCents, "priceCents", PRICE_ACCEPTED);
        requirePresent(stock, "stock", STOCK_ACCEPTED);
        return new NewProduct(categoryId, name, description, priceCents, stock);
    }

    private static JsonNode parseObject(String body, String accepted) throws InvalidInputException {
        if (body == null || body.isBlank()) {
            throw new InvalidInputException("request body is missing", "body", "", accepted);
        }
        JsonNode root;
        try {
            root = Json.mapper().readTree(body);
        } catch (JsonProcessingException e) {
            throw new InvalidInputException("request body is not valid JSON: " + e.getOriginalMessage(), "body", body, accepted);
        }
        if (root == null || !root.isObject()) {
            throw new InvalidInputException("request body is not a JSON object", "body", body, accepted);
        }
        return root;
    }

    private static void requirePresent(Object value, String field, String accepted) throws InvalidInputException {
        if (value == null) {
            throw new InvalidInputException("field " + field + " is missing", field, "", accepted);
        }
    }

    private static long parseCategoryId(JsonNode value) throws InvalidInputException {
        if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 0) {
            throw invalid("categoryId", value, CATEGORY_ACCEPTED);
        }
        return value.asLong();
    }

    private static String parseName(JsonNode value) throws InvalidInputException {
        if (!value.isTextual() || value.asText().isBlank() || value.asText().length() > ProductUpdate.MAX_NAME_LENGTH
                || !isStorableText(value.asText())) {
            throw invalid("name", value, NAME_ACCEPTED);
        }
        return value.asText();
    }

    private static String parseDescription(JsonNode value) throws InvalidInputException {
        if (!value.isTextual() || value.asText().length() > ProductUpdate.MAX_DESCRIPTION_LENGTH
                || !isStorableText(value.asText())) {
            throw invalid("description", value, DESCRIPTION_ACCEPTED);
        }
        return value.asText();
    }

    /**
     * Returns whether PostgreSQL can store the text as it is: its {@code text} type rejects NUL, and an unpaired
     * surrogate has no UTF-8 encoding. A JSON string can carry both as escapes, such as backslash-u0000.
     */
    static boolean isStorableText(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == 0) {
                return false;
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 == text.length() || !Character.isLowSurrogate(text.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static long parsePrice(JsonNode value) throws InvalidInputException {
        if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 0) {
            throw invalid("priceCents", value, PRICE_ACCEPTED);
        }
        return value.asLong();
    }

    private static int parseStock(JsonNode value) throws InvalidInputException {
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < 0) {
            throw invalid("stock", value, STOCK_ACCEPTED);
        }
        return value.asInt();
    }

    private static InvalidInputException invalid(String field, JsonNode value, String accepted) {
        String shortValue = InvalidInputException.shorten(value.toString());
        return new InvalidInputException(field + "=" + shortValue + " is invalid; accepted: " + accepted, field, value.toString(), accepted);
    }
}
