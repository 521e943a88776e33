package dev.backbone.invalidator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.backbone.events.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Parses Debezium change events in JSON, as the embedded engine and Kafka Connect's {@code JsonConverter} write them:
 * either the bare envelope or the envelope wrapped as {@code {"schema": ..., "payload": ...}}. Stateless and thread-safe.
 */
final class ChangeEventParser {

    /** The {@code op} of a logical decoding message, which carries no row change. */
    static final String MESSAGE_OPERATION = "m";

    /** Prefix of the key fields that Debezium's routing transforms add. */
    private static final String ROUTER_FIELD_PREFIX = "__dbz__";

    private static final Set<String> ROW_OPERATIONS = Set.of("c", "u", "d", "r", "t");

    private final ObjectMapper mapper = Json.mapper();

    /**
     * Parses one record of {@code backbone.db-changes}.
     *
     * @param key   the record key: {@code schema.table:primary key} as the embedded engine writes it, Debezium's JSON
     *              key as Kafka Connect writes it, or {@code null}
     * @param value the record value
     * @return the change, or empty for a tombstone (a null value or a null payload) and for a logical decoding message
     * @throws MalformedChangeEventException when the value is not a Debezium change event, naming the missing or
     *                                       invalid field
     */
    Optional<DatabaseChange> parse(String key, String value) {
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        JsonNode envelope = unwrap(readTree(value, "value"));
        if (envelope.isNull()) {
            return Optional.empty();
        }
        if (!envelope.isObject()) {
            throw new MalformedChangeEventException("change event is a JSON " + envelope.getNodeType()
                    + "; expected an object with op, source, before and after");
        }

        String operation = requiredText(envelope, "op");
        if (MESSAGE_OPERATION.equals(operation)) {
            return Optional.empty();
        }
        if (!ROW_OPERATIONS.contains(operation)) {
            throw new MalformedChangeEventException("op=" + operation + " is not accepted; accepted: c, u, d, r, t, m");
        }

        JsonNode source = envelope.get("source");
        if (source == null || !source.isObject()) {
            throw new MalformedChangeEventException("source is missing or not an object");
        }
        String schema = requiredText(source, "schema");
        String table = requiredText(source, "table");
        long commitAtMs = requiredLong(source, "ts_ms", "source.ts_ms");
        JsonNode capturedAt = envelope.get("ts_ms");
        long capturedAtMs = capturedAt != null && capturedAt.canConvertToLong() ? capturedAt.asLong() : -1;
        JsonNode lsnNode = source.get("lsn");
        long lsn = lsnNode != null && lsnNode.isIntegralNumber() && lsnNode.canConvertToLong() ? lsnNode.asLong() : -1;

        JsonNode before = rowImage(envelope, "before");
        JsonNode after = rowImage(envelope, "after");
        if (after == null && (operation.equals("c") || operation.equals("u") || operation.equals("r"))) {
            throw new MalformedChangeEventException("after is missing for op=" + operation);
        }
        String rowKey = rowKey(key, schema + "." + table);
        return Optional.of(new DatabaseChange(schema, table, operation, before, after, rowKey, commitAtMs, capturedAtMs, lsn));
    }

    private JsonNode readTree(String text, String part) {
        try {
            JsonNode node = mapper.readTree(text);
            if (node == null || node.isMissingNode()) {
                throw new MalformedChangeEventException(part + " contains no JSON");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new MalformedChangeEventException(part + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Returns the payload of a {@code {"schema":..., "payload":...}} wrapper, or the node itself. */
    private static JsonNode unwrap(JsonNode node) {
        if (node.isObject() && node.has("schema") && node.has("payload")) {
            return node.get("payload");
        }
        return node;
    }

    private static String requiredText(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual() || value.asText().isBlank()) {
            throw new MalformedChangeEventException(field + " is missing or not a non-blank string");
        }
        return value.asText();
    }

    private static long requiredLong(JsonNode node, String field, String path) {
        JsonNode value = node.get(field);
        if (value == null || !value.isIntegralNumber() || !value.canConvertToLong()) {
            throw new MalformedChangeEventException(path + " is missing or not an integer");
        }
        return value.asLong();
    }

    private static JsonNode rowImage(JsonNode envelope, String field) {
        JsonNode image = envelope.get(field);
        if (image == null || image.isNull()) {
            return null;
        }
        if (!image.isObject()) {
            throw new MalformedChangeEventException(field + " is a JSON " + image.getNodeType() + "; expected an object or null");
        }
        return image;
    }

    /**
     * Returns the primary key from a record key, or {@code null} when the key is absent or unreadable. A bad key is not
     * an error because the row images usually carry the primary key as well.
     */
    private String rowKey(String key, String qualifiedTable) {
        if (key == null || key.isBlank()) {
            return null;
        }
        String prefix = qualifiedTable + ":";
        if (key.startsWith(prefix)) {
            String primaryKey = key.substring(prefix.length());
            return primaryKey.isEmpty() ? null : primaryKey;
        }
        if (!key.startsWith("{")) {
            return null;
        }
        JsonNode node;
        try {
            node = unwrap(mapper.readTree(key));
        } catch (JsonProcessingException e) {
            return null;
        }
        return node != null && node.isObject() ? joinValues(node) : null;
    }

    /**
     * Joins the values of a Debezium key object in field order, or returns {@code null} when one is not a scalar.
     * Fields that Debezium's {@code ByLogicalTableRouter} adds to keep keys unique across tables, such as
     * {@code __dbz__physicalTableIdentifier}, are not part of the primary key and are skipped.
     */
    static String joinValues(JsonNode keyObject) {
        List<String> values = new ArrayList<>();
        for (var field : keyObject.properties()) {
            if (field.getKey().startsWith(ROUTER_FIELD_PREFIX)) {
                continue;
            }
            JsonNode value = field.getValue();
            if (!value.isValueNode() || value.isNull()) {
                return null;
            }
            values.add(value.asText());
        }
        return values.isEmpty() ? null : String.join(",", values);
    }
}
