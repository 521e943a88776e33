package dev.backbone.appserver;

import dev.backbone.storage.RedisTierConfig;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Cache tiers of an app server, part of {@link AppServerConfig}.
 *
 * @param maxEntries       {@value AppServerConfig#CACHE_MAX_ENTRIES}: the maximum number of entries per entity kind in
 *                         the in-process L1 cache
 * @param ttl              {@value AppServerConfig#CACHE_TTL_MS}: how long an L1 entry stays after its fill
 * @param negativeTtl      {@value AppServerConfig#CACHE_NEGATIVE_TTL_MS}: how long "not found" stays cached in L1 and
 *                         L2; zero caches none
 * @param pinnedKeys       {@value AppServerConfig#CACHE_PINNED_KEYS}: cache keys pinned at start, such as
 *                         {@code product:42}; the way to report hot keys until the routing layer publishes them
 * @param pinnedMaxEntries {@value AppServerConfig#CACHE_PINNED_MAX_ENTRIES}: the maximum number of pinned keys per
 *                         entity kind, verified accounts included
 * @param redis            the L2 tier, or {@code null} when {@value AppServerConfig#REDIS_URI} is not set
 */
public record CacheConfig(long maxEntries, Duration ttl, Duration negativeTtl, List<String> pinnedKeys,
                          int pinnedMaxEntries, RedisTierConfig redis) {

    public CacheConfig {
        Objects.requireNonNull(ttl, "ttl");
        Objects.requireNonNull(negativeTtl, "negativeTtl");
        pinnedKeys = List.copyOf(pinnedKeys);
    }
}
