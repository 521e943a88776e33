package dev.backbone.storage;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cache-aside reads of one entity kind through the pinned cache, L1 ({@link VersionedCache}, in this process), L2
 * ({@link RedisCacheTier}, shared, optional) and the database, with fills guarded by versions so that a read that
 * raced an invalidation cannot put an old value back in any tier.
 *
 * <p>A read that misses the pinned cache and L1 takes its L1 and pinned leases and notes its lease time for L2 before
 * it looks at L2, so every value it fills later, from L2 or from the database, is checked against the invalidations
 * applied meanwhile. A value from L2 that L1 has already seen invalidated is skipped and read from the database instead.
 * A row that does not exist is cached as a negative entry in L1 and L2 for their negative TTLs. An insert's
 * invalidation (version 1) evicts it.
 *
 * <p>L2 failures never fail a read: any exception from the Redis tier, such as a Lettuce {@code RedisException} for
 * an error or a timeout, or an {@link IllegalStateException} once the tier is closed, counts as an L2 miss and is
 * logged, rate-limited.
 * Thread-safe. The caller owns and closes the Redis tier.
 */
public final class TieredCache<V> {

    private static final Logger log = LoggerFactory.getLogger(TieredCache.class);
    private static final long WARNING_INTERVAL_MS = 10_000;

    /** The tier that served a read. */
    public enum Tier {
        PINNED, L1, L2, DATABASE;

        /** Returns the lower-case name used in meter tags and response headers, such as {@code l1}. */
        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * The result of one read.
     *
     * @param value the value, or empty when no row has the key
     * @param tier  the tier that served it
     */
    public record Read<V>(Optional<V> value, Tier tier) {

        public Read {
            Objects.requireNonNull(value, "value");
            Objects.requireNonNull(tier, "tier");
        }
    }

    /**
     * Counters since the cache was created.
     *
     * @param pinnedHits     reads served by the pinned cache
     * @param l1Hits         reads served by L1, negative entries included
     * @param l1Misses       reads that L1 could not serve
     * @param l2Hits         reads served by L2, negative entries included
     * @param l2Misses       L2 lookups that found nothing usable, failed lookups included
     * @param databaseReads  reads served by the database
     * @param l1RefusedFills L1 fills rejected as stale
     * @param l2RefusedFills L2 fills rejected by a tombstone or a newer entry
     * @param l2Errors       Redis commands that failed or timed out
     */
    public record Stats(long pinnedHits, long l1Hits, long l1Misses, long l2Hits, long l2Misses, long databaseReads,
                        long l1RefusedFills, long l2RefusedFills, long l2Errors) {
    }

    private final String name;
    private final Class<V> type;
    private final VersionedCache<String, V> l1;
    private final PinnedCache<V> pinned;
    private final RedisCacheTier l2;
    private final Function<String, Optional<Versioned<V>>> loader;
    private final Clock clock;
    private final LongAdder pinnedHits = new LongAdder();
    private final LongAdder l2Hits = new LongAdder();
    private final LongAdder l2Misses = new LongAdder();
    private final LongAdder l2RefusedFills = new LongAdder();
    private final LongAdder l2Errors = new LongAdder();
    private final LongAdder databaseReads = new LongAdder();
    private final RateLimitedWarning redisWarning;

    /**
     * @param name   the entity kind, such as {@code product}: the {@code cache} tag of the meters
     * @param type   the class that L2 values are decoded as
     * @param l1     the in-process tier
     * @param pinned the cache for hot entities, or {@code null} for none
     * @param l2     the Redis tier, or {@code null} for none
     * @param loader reads a cache key's row from the database, or returns empty when there is none; it may throw
     *               {@link StorageException}, which the read passes on
     * @param clock  the wall clock of L2 lease times, which are compared with the invalidator's tombstone times
     */
    public TieredCache(String name, Class<V> type, VersionedCache<String, V> l1, PinnedCache<V> pinned, RedisCacheTier l2,
                       Function<String, Optional<Versioned<V>>> loader, Clock clock) {
        this.name = Objects.requireNonNull(name, "name");
        this.type = Objects.requireNonNull(type, "type");
        this.l1 = Objects.requireNonNull(l1, "l1");
        this.pinned = pinned;
        this.l2 = l2;
        this.loader = Objects.requireNonNull(loader, "loader");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.redisWarning = new RateLimitedWarning(log, clock, WARNING_INTERVAL_MS);
    }

    /**
     * Reads a key through the tiers and fills the tiers it missed.
     *
     * @throws StorageException when the database read fails
     */
    public Read<V> get(String key) {
        Objects.requireNonNull(key, "key");
        if (pinned != null) {
            CacheLookup<V> hot = pinned.lookup(key);
            if (hot.kind() == CacheLookup.Kind.VALUE) {
                pinnedHits.increment();
                return new Read<>(Optional.of(hot.value()), Tier.PINNED);
            }
        }
        CacheLookup<V> local = l1.lookup(key);
        if (local.hit()) {
            return new Read<>(local.optionalValue(), Tier.L1);
        }

        // Leases before any shared tier is read: every invalidation applied from now on can reject the fills below.
        VersionedCache.Lease l1Lease = l1.lease();
        VersionedCache.Lease pinnedLease = pinned == null ? null : pinned.lease();
        long leaseTimeMs = clock.millis();

        Read<V> fromL2 = readL2(key, l1Lease, pinnedLease);
        if (fromL2 != null) {
            return fromL2;
        }

        databaseReads.increment();
        Optional<Versioned<V>> loaded = loader.apply(key);
        if (loaded.isPresent()) {
            V value = loaded.get().value();
            long version = loaded.get().version();
            fillL2(key, value, version, leaseTimeMs);
            l1.fill(key, l1Lease, value, version);
            if (pinned != null) {
                pinned.fill(key, pinnedLease, value, version);
            }
        } else {
            fillL2Absent(key, leaseTimeMs);
            l1.fillAbsent(key, l1Lease);
        }
        return new Read<>(loaded.map(Versioned::value), Tier.DATABASE);
    }

    /**
     * Applies an invalidation from {@code backbone.cache-invalidations} to L1 and the pinned cache. L2 is left alone:
     * the cache invalidator wrote its tombstone before it published the invalidation.
     *
     * @param version the row version after the change, or -1 when unknown
     */
    public void invalidate(String key, long version) {
        l1.invalidate(key, version);
        if (pinned != null) {
            pinned.invalidate(key, version);
        }
    }

    /**
     * Applies a change this server committed itself: writes the L2 tombstone first, then invalidates L1 and the pinned
     * cache, so that a read in between finds the tombstone rather than the old value. A failed tombstone write is
     * logged; the invalidator writes the same tombstone soon after.
     *
     * @param version the row version after the change, or -1 for a delete
     */
    public void invalidateAfterWrite(String key, long version) {
        if (l2 != null) {
            try {
                l2.writeTombstone(key, version, clock.millis());
            } catch (RuntimeException e) {
                l2Errors.increment();
                redisWarning.warn("Cannot write the L2 tombstone of {}; other servers may read the old value from Redis"
                        + " until the cache invalidator writes it: {}", key, e.toString());
            }
        }
        invalidate(key, version);
    }

    /** Returns the pinned cache, or {@code null} when there is none. */
    public PinnedCache<V> pinned() {
        return pinned;
    }

    public Stats stats() {
        VersionedCache.Stats local = l1.stats();
        return new Stats(pinnedHits.sum(), local.hits(), local.misses(), l2Hits.sum(), l2Misses.sum(), databaseReads.sum(),
                local.refusedFills(), l2RefusedFills.sum(), l2Errors.sum());
    }

    /**
     * Registers the L1 and pinned meters and, with tags {@code cache} and {@code tier=l2}: {@code backbone.cache.gets}
     * (tag {@code result} hit or miss), {@code backbone.cache.fills.refused} and {@code backbone.cache.errors}.
     */
    public void bindTo(MeterRegistry registry) {
        l1.bindTo(registry, name, Tier.L1.tag());
        if (pinned != null) {
            pinned.bindTo(registry);
        }
        if (l2 != null) {
            FunctionCounter.builder("backbone.cache.gets", l2Hits, LongAdder::sum)
                    .tags("cache", name, "tier", Tier.L2.tag(), "result", "hit")
                    .description("cache lookups that found a value or a negative entry").register(registry);
            FunctionCounter.builder("backbone.cache.gets", l2Misses, LongAdder::sum)
                    .tags("cache", name, "tier", Tier.L2.tag(), "result", "miss")
                    .description("cache lookups that found nothing").register(registry);
            FunctionCounter.builder("backbone.cache.fills.refused", l2RefusedFills, LongAdder::sum)
                    .tags("cache", name, "tier", Tier.L2.tag())
                    .description("fills rejected because an invalidation was newer").register(registry);
            FunctionCounter.builder("backbone.cache.errors", l2Errors, LongAdder::sum)
                    .tags("cache", name, "tier", Tier.L2.tag())
                    .description("cache commands that failed or timed out").register(registry);
        }
    }

    /** Returns the result from L2, or {@code null} when L2 has nothing usable and the database must serve the read. */
    private Read<V> readL2(String key, VersionedCache.Lease l1Lease, VersionedCache.Lease pinnedLease) {
        if (l2 == null) {
            return null;
        }
        CacheLookup<V> shared;
        try {
            shared = l2.get(key, type);
        } catch (RuntimeException e) {
            l2Errors.increment();
            l2Misses.increment();
            redisWarning.warn("Cannot read {} from Redis; reading the database instead: {}", key, e.toString());
            return null;
        }
        if (!shared.hit() || l1.isStale(key, l1Lease, shared.version())) {
            // A value older than an invalidation this server applied is skipped, not served.
            l2Misses.increment();
            return null;
        }
        l2Hits.increment();
        if (shared.kind() == CacheLookup.Kind.ABSENT) {
            l1.fillAbsent(key, l1Lease);
            return new Read<>(Optional.empty(), Tier.L2);
        }
        l1.fill(key, l1Lease, shared.value(), shared.version());
        if (pinned != null) {
            pinned.fill(key, pinnedLease, shared.value(), shared.version());
        }
        return new Read<>(Optional.of(shared.value()), Tier.L2);
    }

    private void fillL2(String key, V value, long version, long leaseTimeMs) {
        if (l2 == null) {
            return;
        }
        try {
            if (l2.fill(key, value, version, leaseTimeMs) != RedisCacheTier.FillResult.STORED) {
                l2RefusedFills.increment();
            }
        } catch (RuntimeException e) {
            l2Errors.increment();
            redisWarning.warn("Cannot fill {} in Redis: {}", key, e.toString());
        }
    }

    private void fillL2Absent(String key, long leaseTimeMs) {
        if (l2 == null) {
            return;
        }
        try {
            if (l2.fillAbsent(key, leaseTimeMs) != RedisCacheTier.FillResult.STORED) {
                l2RefusedFills.increment();
            }
        } catch (RuntimeException e) {
            l2Errors.increment();
            redisWarning.warn("Cannot fill the negative entry of {} in Redis: {}", key, e.toString());
        }
    }
}
