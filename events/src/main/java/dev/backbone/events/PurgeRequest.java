package dev.backbone.events;

/**
 * A CDN purge of every object tagged with one surrogate key.
 *
 * @param schemaVersion event schema version, {@link #SCHEMA_VERSION} for events written by this code
 * @param surrogateKey  the surrogate key, such as {@code product:42}, or {@code *} for everything
 * @param soft          a soft purge marks objects stale (served while revalidating); a hard one removes them
 * @param commitAtMs    commit time of the oldest database change this purge covers, epoch milliseconds
 * @param requestedAtMs when the purge was requested, epoch milliseconds
 */
public record PurgeRequest(
        int schemaVersion,
        String surrogateKey,
        boolean soft,
        long commitAtMs,
        long requestedAtMs) {

    public static final int SCHEMA_VERSION = 1;

    public PurgeRequest {
        Events.requireSchemaVersion(schemaVersion, SCHEMA_VERSION, "PurgeRequest");
        Events.requireText(surrogateKey, "surrogateKey");
    }
}
