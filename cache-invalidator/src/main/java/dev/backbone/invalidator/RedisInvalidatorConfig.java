package dev.backbone.invalidator;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Configuration of the Redis L2 tier that the invalidator writes tombstones to. {@link #toString()} omits
 * credentials in the URI.
 *
 * @param uri            Lettuce URI of the Redis server ({@code redis.uri}, default empty: no Redis tier), such as
 *                       {@code redis://127.0.0.1:6379}
 * @param keyPrefix      prefix of every L2 key ({@code redis.key.prefix}, default
 *                       {@value RedisTombstones#DEFAULT_KEY_PREFIX}); app servers must use the same
 * @param tombstoneTtlMs how long a tombstone blocks older fills ({@code redis.tombstone.ttl.ms}, default 60000)
 * @param timeoutMs      how long one Redis command may take before it is retried ({@code redis.timeout.ms}, default 2000)
 */
public record RedisInvalidatorConfig(String uri, String keyPrefix, long tombstoneTtlMs, long timeoutMs) {

    /** Returns whether a Redis tier is configured. */
    public boolean enabled() {
        return !uri.isBlank();
    }

    @Override
    public String toString() {
        return "RedisInvalidatorConfig[uri=" + (enabled() ? withoutCredentials(uri) : "(none)") + ", keyPrefix=" + keyPrefix
                + ", tombstoneTtlMs=" + tombstoneTtlMs + ", timeoutMs=" + timeoutMs + "]";
    }

    private static String withoutCredentials(String uri) {
        try {
            URI parsed = new URI(uri);
            return parsed.getScheme() + "://" + parsed.getHost() + ":" + parsed.getPort() + (parsed.getUserInfo() == null ? "" : " (credentials set)");
        } catch (URISyntaxException e) {
            return "(unparsable)";
        }
    }
}
