package dev.backbone.storage;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Objects;

/**
 * Configuration of the Redis L2 tier. {@link #toString()} leaves credentials in the URI out.
 *
 * @param uri                a Lettuce Redis URI, such as {@code redis://127.0.0.1:6379}
 * @param keyPrefix          the prefix of every Redis key, {@link RedisCacheTier#DEFAULT_KEY_PREFIX} in production;
 *                           the cache invalidator writes its tombstones under the same prefix
 * @param entryTtl           how long a filled value stays in Redis
 * @param negativeTtl        how long a negative entry ("no such row") stays; zero stores none
 * @param tombstoneTtl       how long a tombstone written after this server's own writes blocks older fills
 * @param commandTimeout     how long one Redis command may take before the read falls back to the database
 * @param leaseMargin        how much earlier than its start a read counts as started, when compared with the time of
 *                           a tombstone of unknown version. It covers clock skew between the invalidator and this
 *                           server; zero trusts the clocks to agree
 */
public record RedisTierConfig(String uri, String keyPrefix, Duration entryTtl, Duration negativeTtl,
                              Duration tombstoneTtl, Duration commandTimeout, Duration leaseMargin) {

    public RedisTierConfig {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(keyPrefix, "keyPrefix");
        requirePositive(entryTtl, "entryTtl");
        requirePositive(tombstoneTtl, "tombstoneTtl");
        requirePositive(commandTimeout, "commandTimeout");
        Objects.requireNonNull(negativeTtl, "negativeTtl");
        Objects.requireNonNull(leaseMargin, "leaseMargin");
        if (negativeTtl.isNegative() || leaseMargin.isNegative()) {
            throw new IllegalArgumentException("negativeTtl and leaseMargin must be >= 0, got " + negativeTtl + " and " + leaseMargin);
        }
    }

    private static void requirePositive(Duration duration, String name) {
        Objects.requireNonNull(duration, name);
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException(name + " must be more than zero, got " + duration);
        }
    }

    @Override
    public String toString() {
        return "RedisTierConfig[uri=" + withoutCredentials(uri) + ", keyPrefix=" + keyPrefix + ", entryTtl=" + entryTtl
                + ", negativeTtl=" + negativeTtl + ", tombstoneTtl=" + tombstoneTtl + ", commandTimeout=" + commandTimeout
                + ", leaseMargin=" + leaseMargin + "]";
    }

    /** Returns scheme, host and port of a Redis URI, without user, password or database. */
    public static String withoutCredentials(String uri) {
        try {
            URI parsed = new URI(uri);
            return parsed.getScheme() + "://" + parsed.getHost() + ":" + parsed.getPort();
        } catch (URISyntaxException e) {
            return "(not a valid URI)";
        }
    }
}
