package dev.backbone.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * An in-process cache (Caffeine, bounded by entry count and time to live) whose fills are checked against the
 * invalidations seen for their key, so that a slow read cannot put back a value that an invalidation already removed.
 * This is the lease idea of Facebook's memcache, with a sequence number of invalidations in place of lease tokens.
 *
 * <p>How a read goes: {@link #getIfPresent} misses, the caller takes a {@link Lease} with {@link #lease()}, reads the
 * source, and calls {@link #fill} with the value and its row version. {@link #get} does all of this in one call. The
 * fill is rejected as stale when either
 * <ul>
 *   <li>an invalidation of the key was applied after the lease was taken: the value may have been read before the
 *       change it announces, whatever its version; or</li>
 *   <li>the value's version is lower than the latest known version announced by an invalidation of the key.</li>
 * </ul>
 * A rejected fill costs one more miss later and never a stale value.
 *
 * <p>Invalidations are remembered per key in a table bounded by {@link Config#maxTrackedInvalidations()}, oldest out
 * first. When an entry leaves the table, a floor rises to its sequence number and every lease older than the floor is
 * rejected, because the cache can no longer tell whether that lease raced an invalidation of its key.
 *
 * <p>Thread-safe. Values must be immutable.
 */
public final class VersionedCache<K, V> {

    /** The default of {@link Config#maxTrackedInvalidations()}. */
    public static final int DEFAULT_MAX_TRACKED_INVALIDATIONS = 10_000;

    /**
     * Sizing of a {@link VersionedCache}.
     *
     * @param maxEntries              the maximum number of cached values, at least 0; 0 caches nothing
     * @param timeToLive              how long a value stays after its fill, more than zero
     * @param maxTrackedInvalidations how many invalidations are remembered for fill checks, at least 1
     */
    public record Config(long maxEntries, Duration timeToLive, int maxTrackedInvalidations) {

        public Config {
            Objects.requireNonNull(timeToLive, "timeToLive");
            if (maxEntries < 0) {
                throw new IllegalArgumentException("maxEntries must be >= 0, got " + maxEntries);
            }
            if (timeToLive.isNegative() || timeToLive.isZero()) {
                throw new IllegalArgumentException("timeToLive must be more than zero, got " + timeToLive);
            }
            if (maxTrackedInvalidations < 1) {
                throw new IllegalArgumentException("maxTrackedInvalidations must be >= 1, got " + maxTrackedInvalidations);
            }
        }

        /** Returns a config that tracks {@link #DEFAULT_MAX_TRACKED_INVALIDATIONS} invalidations. */
        public static Config of(long maxEntries, Duration timeToLive) {
            return new Config(maxEntries, timeToLive, DEFAULT_MAX_TRACKED_INVALIDATIONS);
        }
    }

    /**
     * Proof of when a read began, taken before reading the source and passed to {@link #fill}.
     *
     * @param sequence the invalidation sequence number when the lease was taken
     */
    public record Lease(long sequence) {
    }

    /**
     * Counters since the cache was created.
     *
     * @param hits          lookups that found a value
     * @param misses        lookups that found none
     * @param fills         fills stored (or already superseded by a newer version in the cache)
     * @param refusedFills  fills rejected as stale
     * @param invalidations invalidations applied
     * @param evictions     cached values removed by invalidations
     */
    public record Stats(long hits, long misses, long fills, long refusedFills, long invalidations, long evictions) {
    }

    /** The latest invalidation of one key: its sequence number and the row version it announced, or -1. */
    private record Invalidated(long sequence, long version) {
    }

    /** One position in the oldest-first order of the invalidation table. */
    private record Tracked<K>(K key, long sequence) {
    }

    private final Cache<K, Versioned<V>> entries;
    private final int maxTrackedInvalidations;
    private final ConcurrentHashMap<K, Invalidated> invalidated = new ConcurrentHashMap<>();
    private final Queue<Tracked<K>> trackingOrder = new ConcurrentLinkedQueue<>();
    private final AtomicInteger trackedCount = new AtomicInteger();
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicLong forgottenFloor = new AtomicLong();

    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder fills = new LongAdder();
    private final LongAdder refusedFills = new LongAdder();
    private final LongAdder invalidations = new LongAdder();
    private final LongAdder evictions = new LongAdder();

    public VersionedCache(Config config) {
        this(config, Ticker.systemTicker());
    }

    /** Creates a cache whose time to live is measured by {@code ticker}, for tests that control time. */
    public VersionedCache(Config config, Ticker ticker) {
        Objects.requireNonNull(config, "config");
        this.entries = Caffeine.newBuilder()
                .maximumSize(config.maxEntries())
                .expireAfterWrite(config.timeToLive())
                .ticker(ticker)
                // Maintenance on the calling thread keeps eviction order deterministic and needs no thread pool.
                .executor(Runnable::run)
                .build();
        this.maxTrackedInvalidations = config.maxTrackedInvalidations();
    }

    /** Returns the cached value of a key, counting a hit or a miss. */
    public Optional<V> getIfPresent(K key) {
        Versioned<V> cached = entries.getIfPresent(key);
        if (cached == null) {
            misses.increment();
            return Optional.empty();
        }
        hits.increment();
        return Optional.of(cached.value());
    }

    /** Takes a lease before reading the source of a value that missed. */
    public Lease lease() {
        return new Lease(sequence.get());
    }

    /**
     * Stores a value read under {@code lease}, unless an invalidation makes it stale (see the class documentation).
     * A value older than one already cached leaves the cached one in place.
     *
     * @return {@code true} when the value was not stale, {@code false} when the fill was rejected
     */
    public boolean fill(K key, Lease lease, V value, long version) {
        Objects.requireNonNull(lease, "lease");
        Objects.requireNonNull(value, "value");
        var accepted = new AtomicBoolean();
        // compute holds the key's lock, and invalidate() evicts through the same lock after recording the
        // invalidation, so a fill either finds the invalidation here or is evicted by it right after.
        entries.asMap().compute(key, (k, current) -> {
            if (isStale(k, lease, version)) {
                return current;
            }
            accepted.set(true);
            if (current != null && current.version() > version) {
                return current;
            }
            return new Versioned<>(value, version);
        });
        if (accepted.get()) {
            fills.increment();
        } else {
            refusedFills.increment();
        }
        return accepted.get();
    }

    /**
     * Returns the cached value, or loads it, fills it under a lease and returns what was loaded. The loaded value is
     * returned even when the fill is rejected: it was current when read. An empty load is not cached.
     */
    public Optional<V> get(K key, Function<? super K, Optional<Versioned<V>>> loader) {
        Optional<V> cached = getIfPresent(key);
        if (cached.isPresent()) {
            return cached;
        }
        Lease lease = lease();
        Optional<Versioned<V>> loaded = loader.apply(key);
        loaded.ifPresent(versioned -> fill(key, lease, versioned.value(), versioned.version()));
        return loaded.map(Versioned::value);
    }

    /**
     * Applies an invalidation: remembers it for later fill checks and evicts the cached value unless that value is at
     * least as new as {@code version}.
     *
     * @param version the row version after the change, or a negative number when unknown (such as for a delete),
     *                which evicts whatever is cached
     * @return {@code true} when a cached value was evicted
     */
    public boolean invalidate(K key, long version) {
        Objects.requireNonNull(key, "key");
        invalidations.increment();
        long invalidationSequence = sequence.incrementAndGet();
        invalidated.merge(key, new Invalidated(invalidationSequence, version),
                (previous, latest) -> new Invalidated(latest.sequence(), mergeVersions(previous.version(), latest.version())));
        track(key, invalidationSequence);

        var evicted = new AtomicBoolean();
        entries.asMap().computeIfPresent(key, (k, current) -> {
            if (version >= 0 && current.version() >= version) {
                return current;
            }
            evicted.set(true);
            return null;
        });
        if (evicted.get()) {
            evictions.increment();
        }
        return evicted.get();
    }

    /** Returns the number of cached values, which may briefly include expired ones. */
    public long estimatedSize() {
        return entries.estimatedSize();
    }

    public Stats stats() {
        return new Stats(hits.sum(), misses.sum(), fills.sum(), refusedFills.sum(), invalidations.sum(), evictions.sum());
    }

    /**
     * Registers this cache's counters with a {@code cache} tag: {@code backbone.cache.gets} (tag {@code result} hit or
     * miss), {@code backbone.cache.fills.refused}, {@code backbone.cache.evictions} and the gauge
     * {@code backbone.cache.size}.
     */
    public void bindTo(MeterRegistry registry, String cacheName) {
        FunctionCounter.builder("backbone.cache.gets", hits, LongAdder::sum)
                .tags("cache", cacheName, "result", "hit").description("cache lookups that found a value").register(registry);
        FunctionCounter.builder("backbone.cache.gets", misses, LongAdder::sum)
                .tags("cache", cacheName, "result", "miss").description("cache lookups that found no value").register(registry);
        FunctionCounter.builder("backbone.cache.fills.refused", refusedFills, LongAdder::sum)
                .tags("cache", cacheName).description("fills rejected because an invalidation was newer").register(registry);
        FunctionCounter.builder("backbone.cache.evictions", evictions, LongAdder::sum)
                .tags("cache", cacheName).description("cached values removed by invalidations").register(registry);
        Gauge.builder("backbone.cache.size", entries, Cache::estimatedSize)
                .tags("cache", cacheName).description("cached values").register(registry);
    }

    private boolean isStale(K key, Lease lease, long version) {
        // Read the table before the floor: forget() raises the floor before it removes an entry.
        Invalidated latest = invalidated.get(key);
        if (lease.sequence() < forgottenFloor.get()) {
            return true;
        }
        if (latest == null) {
            return false;
        }
        return latest.sequence() > lease.sequence() || (latest.version() >= 0 && version < latest.version());
    }

    /** An unknown version (a delete) resets what is known, so that a row created again at version 1 can be cached. */
    private static long mergeVersions(long previous, long latest) {
        if (latest < 0 || previous < 0) {
            return latest;
        }
        return Math.max(previous, latest);
    }

    private void track(K key, long invalidationSequence) {
        trackingOrder.add(new Tracked<>(key, invalidationSequence));
        trackedCount.incrementAndGet();
        while (trackedCount.get() > maxTrackedInvalidations) {
            Tracked<K> oldest = trackingOrder.poll();
            if (oldest == null) {
                break;
            }
            trackedCount.decrementAndGet();
            forget(oldest);
        }
    }

    private void forget(Tracked<K> oldest) {
        forgottenFloor.accumulateAndGet(oldest.sequence(), Math::max);
        // A newer invalidation of the same key has its own place in the order and stays.
        invalidated.computeIfPresent(oldest.key(), (k, current) -> current.sequence() == oldest.sequence() ? null : current);
    }
}
