package dev.backbone.invalidator;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Invalidation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Maps a row change to the cache keys and CDN surrogate keys it makes stale. Stateless and thread-safe.
 *
 * <ul>
 *   <li>{@code public.products} row: {@code product:<id>} with the row version of the after image, and
 *       {@code category:<category_id>} for the old and the new category when the row was created, deleted or moved
 *       to another category. All of them are purged from the CDN too.</li>
 *   <li>{@code public.categories} row: {@code category:<id>}, invalidated and purged.</li>
 *   <li>{@code public.static_assets} row: {@code asset:<path>}, invalidated and purged.</li>
 *   <li>{@code public.accounts} row: {@code account:<id>}, invalidated only, because accounts are not CDN content.</li>
 *   <li>Other tables and truncates: no keys.</li>
 * </ul>
 * A primary-key change invalidates the old and the new key. Keys derived from another row (a product's categories)
 * and keys of rows without a version column carry version -1, because no version of that cache entry is known.
 *
 * <p>Only key columns, {@code category_id} and {@code version} are read. Debezium's placeholder for an unchanged
 * TOAST value is never taken as a key. Without {@code REPLICA IDENTITY FULL} an update has no old image and a delete
 * has only the primary key, so the old category of a moved or deleted product is unknown and not invalidated; the
 * storage migrations set {@code FULL} on the catalogue tables for this reason.
 */
final class InvalidationMapper {

    static final String PRODUCTS = "products";
    static final String CATEGORIES = "categories";
    static final String STATIC_ASSETS = "static_assets";
    static final String ACCOUNTS = "accounts";
    static final String PRODUCT_KEY_PREFIX = "product:";
    static final String CATEGORY_KEY_PREFIX = "category:";
    static final String ASSET_KEY_PREFIX = "asset:";
    static final String ACCOUNT_KEY_PREFIX = "account:";
    static final long UNKNOWN_VERSION = -1;
    /** Debezium's default {@code unavailable.value.placeholder} for an unchanged TOAST value. */
    static final String UNAVAILABLE_VALUE = "__debezium_unavailable_value";

    private static final String SCHEMA = "public";

    /**
     * Returns the stale keys of one change, each key once, in a stable order.
     *
     * @param nowMs the capture time to record when the change event carries none, epoch milliseconds
     * @throws MalformedChangeEventException when a change of a mapped table has no primary key anywhere
     */
    StaleKeys map(DatabaseChange change, long nowMs) {
        if (!SCHEMA.equals(change.schema()) || change.operation().equals("t")) {
            return StaleKeys.NONE;
        }
        Map<String, Long> versions = new LinkedHashMap<>();
        boolean purge = true;
        switch (change.table()) {
            case PRODUCTS -> mapProduct(change, versions);
            case CATEGORIES -> mapRowKeys(change, "id", CATEGORY_KEY_PREFIX, UNKNOWN_VERSION, versions);
            case STATIC_ASSETS -> mapRowKeys(change, "path", ASSET_KEY_PREFIX, UNKNOWN_VERSION, versions);
            case ACCOUNTS -> {
                mapRowKeys(change, "id", ACCOUNT_KEY_PREFIX, UNKNOWN_VERSION, versions);
                purge = false;
            }
            default -> {
                return StaleKeys.NONE;
            }
        }
        long capturedAtMs = change.capturedAtMs() >= 0 ? change.capturedAtMs() : nowMs;
        List<Invalidation> invalidations = new ArrayList<>(versions.size());
        versions.forEach((cacheKey, version) -> invalidations.add(new Invalidation(
                Invalidation.SCHEMA_VERSION, cacheKey, version, change.operation(), change.commitAtMs(), capturedAtMs)));
        return new StaleKeys(invalidations, purge ? List.copyOf(versions.keySet()) : List.of());
    }

    private static void mapProduct(DatabaseChange change, Map<String, Long> versions) {
        mapRowKeys(change, "id", PRODUCT_KEY_PREFIX, version(change.after()), versions);

        JsonNode before = change.before();
        String oldCategory = categoryId(before);
        String newCategory = categoryId(change.after());
        boolean moved = change.operation().equals("u") && before != null && !Objects.equals(oldCategory, newCategory);
        // An update without an old image (REPLICA IDENTITY DEFAULT) cannot show a move. The new category is
        // invalidated in case the product moved, but the old category is unknown.
        boolean oldImageMissing = change.operation().equals("u") && before == null;
        if (change.operation().equals("d") || moved) {
            putUnknownVersion(versions, CATEGORY_KEY_PREFIX, oldCategory);
        }
        if (change.operation().equals("c") || change.operation().equals("r") || moved || oldImageMissing) {
            putUnknownVersion(versions, CATEGORY_KEY_PREFIX, newCategory);
        }
    }

    /** Adds the key of the row after the change and, when the primary key changed or the row is gone, the old key. */
    private static void mapRowKeys(DatabaseChange change, String keyColumn, String prefix, long version,
            Map<String, Long> versions) {
        String newId = scalar(change.after(), keyColumn);
        String oldId = scalar(change.before(), keyColumn);
        if (newId == null && oldId == null) {
            oldId = change.rowKey();
        }
        if (newId == null && oldId == null) {
            throw new MalformedChangeEventException(change.qualifiedTable() + " change with op=" + change.operation()
                    + " has no " + keyColumn + " in after, before or the record key");
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

    /**
     * Returns the category id of a product row, or {@code null} when absent, null, not an integer or not positive.
     * A delete without {@code REPLICA IDENTITY FULL} carries only the primary key, and Debezium fills the other NOT NULL
     * columns of its old image with their column default or a zero value, so a {@code category_id} of 0 there means
     * unknown. Category ids are positive.
     */
    private static String categoryId(JsonNode row) {
        if (row == null) {
            return null;
        }
        JsonNode value = row.get("category_id");
        return value != null && value.isIntegralNumber() && value.asLong() > 0 ? value.asText() : null;
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
}
