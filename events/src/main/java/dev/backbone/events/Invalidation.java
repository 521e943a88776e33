package dev.backbone.events;

/**
 * An instruction to evict one cache key, derived from a committed database change.
 *
 * @param schemaVersion event schema version, {@link #SCHEMA_VERSION} for events written by this code
 * @param cacheKey      the cache key, such as {@code product:42}
 * @param version       the row version after the change, or -1 when unknown (deletes, tables without versions)
 * @param operation     {@code c}, {@code u}, {@code d} or {@code r}, as in Debezium's {@code op} field
 * @param commitAtMs    the database commit time, epoch milliseconds
 * @param capturedAtMs  when change data capture saw the change, epoch milliseconds
 */
public record Invalidation(
        int schemaVersion,
        String cacheKey,
        long version,
        String operation,
        long commitAtMs,
        long capturedAtMs) {

    public static final int SCHEMA_VERSION = 1;

    public Invalidation {
        Events.requireSchemaVersion(schemaVersion, SCHEMA_VERSION, "Invalidation");
        Events.requireText(cacheKey, "cacheKey");
    }
}
