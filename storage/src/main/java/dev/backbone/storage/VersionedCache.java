package dev.backbone.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
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
 * <p>With {@link Config#negativeTimeToLive()} above zero, {@link #fillAbsent} caches "no such row" for that long, under
 * the same checks, as an entry of version {@link CacheLookup#ABSENT_VERSION}: any invalidation of the key with a known
 * version, such as the one of an insert, evicts it.
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

    /** A time to live that never ends, for a cache whose entries leave only through invalidations. */
    public static final Duration NO_EXPIRY = ChronoUnit.FOREVER.getDuration();

    /**
     * Sizing of a {@link VersionedCache}.
     *
     * @param maxEntries              the maximum number of cached values, at least 0; 0 caches nothing
     * @param timeToLive              how long a value stays after its fill, more than zero, or {@link #NO_EXPIRY}
     * @param negativeTimeToLive      how long a negative entry stays after its fill; zero caches no negative entries
     * @param maxTrackedInvalidations how many invalidations are remembered for fill checks, at least 1
     */
    public record Config(long maxEntries, Duration timeToLive, Duration negativeTimeToLive, int maxTrackedInvalidations) {

        public Config {
            Objects.requireNonNull(timeToLive, "timeToLive");
            Objects.requireNonNull(negativeTimeToLive, "negativeTimeToLive");
            if (maxEntries < 0) {
                throw new IllegalArgumentException("maxEntries must be >= 0, got " + maxEntries);
            }
            if (timeToLive.isNegative() || timeToLive.isZero()) {
                throw new IllegalArgumentException("timeToLive must be more than zero, got " + timeToLive);
            }
            if (negativeTimeToLive.isNegative()) {
                throw new IllegalArgumentException("negativeTimeToLive must be >= 0, got " + negativeTimeToLive);
            }
            if (maxTrackedInvalidations < 1) {
                throw new IllegalArgumentException("maxTrackedInvalidations must be >= 1, got " + maxTrackedInvalidations);
            }
        }

        /** Returns a config without negative entries. */
        public Config(long maxEntries, Duration timeToLive, int maxTrackedInvalidations) {
            this(maxEntries, timeToLive, Duration.ZERO, maxTrackedInvalidations);
        }

        /** Returns a config without negative entries that tracks {@link #DEFAULT_MAX_TRACKED_INVALIDATIONS} invalidations. */
        public static Config of(long maxEntries, Duration timeToLive) {
            return new Config(maxEntries, timeToLive, Duration.ZERO, DEFAULT_MAX_TRACKED_INVALIDATIONS);
        }

        /** Returns a config with negative entries that tracks {@link #DEFAULT_MAX_TRACKED_INVALIDATIONS} invalidations. */
        public static Config of(long maxEntries, Duration timeToLive, Duration negativeTimeToLive) {
            return new Config(maxEntries, timeToLive, negativeTimeToLive, DEFAULT_MAX_TRACKED_INVALIDATIONS);
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
     * @param hits          lookups that found a value or a negative entry
     * @param misses        lookups that found neither
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

    /** A cached value, or {@code null} for a negative entry, with the ticker time it expires at. */
    private record Entry<V>(V value, long version, long expiresAtNanos) {
    }

    /** Expires each entry at the time stored in it, so a fill that keeps the current entry keeps its expiry too. */
    private static final class EntryExpiry<K, V> implements Expiry<K, Entry<V>> {

        @Override
        public long expireAfterCreate(K key, Entry<V> entry, long currentTime) {
            return remaining(entry, currentTime);
        }

        @Override
        public long expireAfterUpdate(K key, Entry<V> entry, long currentTime, long currentDuration) {
            return remaining(entry, currentTime);
        }

        @Override
        public long expireAfterRead(K key, Entry<V> entry, long currentTime, long currentDuration) {
            return currentDuration;
        }

        private static long remaining(Entry<?> entry, long currentTime) {
            return entry.expiresAtNanos() == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, entry.expiresAtNanos() - currentTime);
        }
    }

    private final Cache<K, Entry<V>> entries;
    private final Ticker ticker;
    private final long timeToLiveNanos;
    private final long negativeTimeToLiveNanos;
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
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.timeToLiveNanos = saturatedNanos(config.timeToLive());
        this.negativeTimeToLiveNanos = saturatedNanos(config.negativeTimeToLive());
        this.entries = Caffeine.newBuilder()
                .maximumSize(config.maxEntries())
                .expireAfter(new EntryExpiry<K, V>())
                .ticker(ticker)
                // Maintenance on the calling thread keeps eviction order deterministic and needs no thread pool.
                .executor(Runnable::run)
                .build();
        this.maxTrackedInvalidations = config.maxTrackedInvalidations();
    }

    /** Returns the cached value of a key, counting a hit or a miss; a negative entry counts as a hit and returns empty. */
    public Optional<V> getIfPresent(K key) {
        return lookup(key).optionalValue();
    }

    /** Returns what is cached for a key: a value, a negative entry or nothing, counting a hit or a miss. */
    public CacheLookup<V> lookup(K key) {
        Entry<V> cached = entries.getIfPresent(key);
        if (cached == null) {
            misses.increment();
            return CacheLookup.miss();
        }
        hits.increment();
        return cached.value() == null ? CacheLookup.absent() : CacheLookup.value(cached.value(), cached.version());
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
        Objects.requireNonNull(value, "value");
        return store(key, lease, value, version, timeToLiveNanos);
    }

    /**
     * Stores a negative entry for a key whose row was not found under {@code lease}, for
     * {@link Config#negativeTimeToLive()}, unless an invalidation makes it stale. Does nothing and returns
     * {@code false} when negative entries are off, without counting a rejected fill.
     *
     * @return {@code true} when the negative entry was not stale
     */
    public boolean fillAbsent(K key, Lease lease) {
        if (negativeTimeToLiveNanos == 0) {
            return false;
        }
        return store(key, lease, null, CacheLookup.ABSENT_VERSION, negativeTimeToLiveNanos);
    }

    private boolean store(K key, Lease lease, V value, long version, long timeToLive) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(lease, "lease");
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
            return new Entry<>(value, version, expiresAt(timeToLive));
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
     * returned even when the fill is rejected: it was current when read. An empty load is cached as a negative entry
     * when {@link Config#negativeTimeToLive()} is above zero.
     */
    public Optional<V> get(K key, Function<? super K, Optional<Versioned<V>>> loader) {
        CacheLookup<V> cached = lookup(key);
        if (cached.hit()) {
            return cached.optionalValue();
        }
        Lease lease = lease();
        Optional<Versioned<V>> loaded = loader.apply(key);
        if (loaded.isPresent()) {
            fill(key, lease, loaded.get().value(), loaded.get().version());
        } else {
            fillAbsent(key, lease);
        }
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

    /** Registers this cache's meters as tier {@code l1}; see {@link #bindTo(MeterRegistry, String, String)}. */
    public void bindTo(MeterRegistry registry, String cacheName) {
        bindTo(registry, cacheName, "l1");
    }

    /**
     * Registers this cache's counters with tags {@code cache} and {@code tier}: {@code backbone.cache.gets} (tag
     * {@code result} hit or miss), {@code backbone.cache.fills.refused}, {@code backbone.cache.evictions} and the gauge
     * {@code backbone.cache.size}.
     */
    public void bindTo(MeterRegistry registry, String cacheName, String tierName) {
        FunctionCounter.builder("backbone.cache.gets", hits, LongAdder::sum)
                .tags("cache", cacheName, "tier", tierName, "result", "hit")
                .description("cache lookups that found a value or a negative entry").register(registry);
        FunctionCounter.builder("backbone.cache.gets", misses, LongAdder::sum)
                .tags("cache", cacheName, "tier", tierName, "result", "miss")
                .description("cache lookups that found nothing").register(registry);
        FunctionCounter.builder("backbone.cache.fills.refused", refusedFills, LongAdder::sum)
                .tags("cache", cacheName, "tier", tierName)
                .description("fills rejected because an invalidation was newer").register(registry);
        FunctionCounter.builder("backbone.cache.evictions", evictions, LongAdder::sum)
                .tags("cache", cacheName, "tier", tierName)
                .description("cached values removed by invalidations").register(registry);
        Gauge.builder("backbone.cache.size", entries, Cache::estimatedSize)
                .tags("cache", cacheName, "tier", tierName).description("cached entries").register(registry);
    }

    private long expiresAt(long timeToLive) {
        if (timeToLive == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        long now = ticker.read();
        return now > Long.MAX_VALUE - timeToLive ? Long.MAX_VALUE - 1 : now + timeToLive;
    }

    private static long saturatedNanos(Duration duration) {
        return duration.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : duration.toNanos();
    }

    /**
     * Returns whether a fill of {@code version} under {@code lease} would be rejected now, without filling. Lets a
     * caller skip a value known to be stale, such as one read from a shared tier.
     */
    public boolean isStale(K key, Lease lease, long version) {
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
