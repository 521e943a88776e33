package dev.backbone.invalidator;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Invalidation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Maps a row change to the cache keys it makes stale. Stateless and thread-safe.
 *
 * <ul>
 *   <li>{@code public.products} row: {@code product:<id>} with the row version of the after image, and
 *       {@code category:<category_id>} for the old and the new category when the row was created, deleted or moved
 *       to another category.</li>
 *   <li>{@code public.categories} row: {@code category:<id>}.</li>
 *   <li>Other tables and truncates: no keys.</li>
 * </ul>
 * A primary-key change invalidates the old and the new key. Keys derived from another row (a product's categories)
 * and keys of deleted rows carry version -1, because no version of that cache entry is known.
 */
final class InvalidationMapper {

    static final String PRODUCTS = "products";
    static final String CATEGORIES = "categories";
    static final String PRODUCT_KEY_PREFIX = "product:";
    static final String CATEGORY_KEY_PREFIX = "category:";
    static final long UNKNOWN_VERSION = -1;

    private static final String SCHEMA = "public";

    /**
     * Returns the invalidations of one change, each key once, in a stable order.
     *
     * @param nowMs the capture time to record when the change event carries none, epoch milliseconds
     * @throws MalformedChangeEventException when a products or categories change has no primary key anywhere
     */
    List<Invalidation> map(DatabaseChange change, long nowMs) {
        if (!SCHEMA.equals(change.schema()) || change.operation().equals("t")) {
            return List.of();
        }
        Map<String, Long> versions = new LinkedHashMap<>();
        switch (change.table()) {
            case PRODUCTS -> mapProduct(change, versions);
            case CATEGORIES -> mapRowKeys(change, CATEGORY_KEY_PREFIX, UNKNOWN_VERSION, versions);
            default -> {
                return List.of();
            }
        }
        long capturedAtMs = change.capturedAtMs() >= 0 ? change.capturedAtMs() : nowMs;
        List<Invalidation> invalidations = new ArrayList<>(versions.size());
        versions.forEach((cacheKey, version) -> invalidations.add(new Invalidation(
                Invalidation.SCHEMA_VERSION, cacheKey, version, change.operation(), change.commitAtMs(), capturedAtMs)));
        return invalidations;
    }

    private static void mapProduct(DatabaseChange change, Map<String, Long> versions) {
        mapRowKeys(change, PRODUCT_KEY_PREFIX, version(change.after()), versions);

        String oldCategory = categoryId(change.before());
        String newCategory = categoryId(change.after());
        boolean moved = change.operation().equals("u") && !Objects.equals(oldCategory, newCategory);
        // An update without an old image (REPLICA IDENTITY DEFAULT) cannot show a move, so the new category is
        // invalidated in case it was one; the old category stays unknown.
        boolean oldImageMissing = change.operation().equals("u") && change.before() == null;
        if (change.operation().equals("d") || moved) {
            putUnknownVersion(versions, CATEGORY_KEY_PREFIX, oldCategory);
        }
        if (change.operation().equals("c") || change.operation().equals("r") || moved || oldImageMissing) {
            putUnknownVersion(versions, CATEGORY_KEY_PREFIX, newCategory);
        }
    }

    /** Adds the key of the row after the change and, when the primary key changed or the row is gone, the old key. */
    private static void mapRowKeys(DatabaseChange change, String prefix, long version, Map<String, Long> versions) {
        String newId = scalar(change.after(), "id");
        String oldId = scalar(change.before(), "id");
        if (newId == null && oldId == null) {
            oldId = change.rowKey();
        }
        if (newId == null && oldId == null) {
            throw new MalformedChangeEventException(change.qualifiedTable() + " change with op=" + change.operation()
                    + " has no id in after, before or the record key");
        }
        if (newId != null) {
            versions.put(prefix + newId, version);
        }
        if (oldId != null && !oldId.equals(newId)) {
            versions.putIfAbsent(prefix + oldId, UNKNOWN_VERSION);
        }
    }

    private static void putUnknownVersion(Map<String, Long> versions, String prefix, String id) {
        if (id != null) {
            versions.putIfAbsent(prefix + id, UNKNOWN_VERSION);
        }
    }

    private static long version(JsonNode after) {
        if (after == null) {
            return UNKNOWN_VERSION;
        }
        JsonNode version = after.get("version");
        return version != null && version.isIntegralNumber() && version.canConvertToLong() ? version.asLong() : UNKNOWN_VERSION;
    }

    /** Returns the category id of a product row, or {@code null} when absent, null or not an integer. */
    private static String categoryId(JsonNode row) {
        if (row == null) {
            return null;
        }
        JsonNode value = row.get("category_id");
        return value != null && value.isIntegralNumber() ? value.asText() : null;
    }

    /**
     * Returns a key column as text: an integer, or a non-blank string other than Debezium's placeholder for an
     * unchanged TOAST value; otherwise {@code null}.
     */
    private static String scalar(JsonNode row, String column) {
        if (row == null) {
            return null;
        }
        JsonNode value = row.get(column);
        if (value == null) {
            return null;
        }
        if (value.isIntegralNumber()) {
            return value.asText();
        }
        if (value.isTextual() && !value.asText().isBlank() && !value.asText().equals(UNAVAILABLE_VALUE)) {
            return value.asText();
        }
        return null;
    }

    /** Debezium's default {@code unavailable.value.placeholder} for an unchanged TOAST column. */
    static final String UNAVAILABLE_VALUE = "__debezium_unavailable_value";
}
