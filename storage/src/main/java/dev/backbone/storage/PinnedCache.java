package dev.backbone.storage;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cache for hot entities that never expires: a pinned key stays until it is unpinned, and its value changes only
 * through invalidations. An invalidation evicts the value at once, so reads fall through to the other tiers, and then
 * reloads it from the database on the refresh executor, under the same version guard as {@link VersionedCache}: a
 * reload that raced a newer invalidation is rejected, and that newer invalidation schedules a reload of its own.
 *
 * <p>A key is unpinned when its row is gone or its value fails the {@code keepPinned} test, such as an account that
 * is no longer verified. At most {@code maxKeys} keys are pinned; {@link #pin} returns {@code false} beyond that.
 *
 * <p>Thread-safe. The caller owns the refresh executor.
 */
public final class PinnedCache<V> {

    private static final Logger log = LoggerFactory.getLogger(PinnedCache.class);
    private static final long WARNING_INTERVAL_MS = 10_000;

    private final String name;
    private final int maxKeys;
    private final Function<String, Optional<Versioned<V>>> loader;
    private final Predicate<V> keepPinned;
    private final Executor refreshExecutor;
    private final VersionedCache<String, V> values;
    private final Set<String> pinnedKeys = ConcurrentHashMap.newKeySet();
    private final Set<String> pendingRefreshes = ConcurrentHashMap.newKeySet();
    private final LongAdder refreshes = new LongAdder();
    private final LongAdder failedRefreshes = new LongAdder();
    private final RateLimitedWarning refreshWarning;

    /**
     * @param name            the entity kind, such as {@code account}, for logs and the {@code cache} tag of meters
     * @param maxKeys         the maximum number of pinned keys, at least 0
     * @param loader          reads a key's row from the database, or returns empty when there is none
     * @param keepPinned      whether a loaded value stays pinned
     * @param refreshExecutor runs reloads after invalidations, so that the invalidation consumer does not wait for
     *                        the database; tests pass {@code Runnable::run}
     */
    public PinnedCache(String name, int maxKeys, Function<String, Optional<Versioned<V>>> loader, Predicate<V> keepPinned,
                       Executor refreshExecutor) {
        if (maxKeys < 0) {
            throw new IllegalArgumentException("maxKeys must be >= 0, got " + maxKeys);
        }
        this.name = Objects.requireNonNull(name, "name");
        this.maxKeys = maxKeys;
        this.loader = Objects.requireNonNull(loader, "loader");
        this.keepPinned = Objects.requireNonNull(keepPinned, "keepPinned");
        this.refreshExecutor = Objects.requireNonNull(refreshExecutor, "refreshExecutor");
        // One more slot than keys, so that Caffeine never evicts by size while a key is being unpinned.
        this.values = new VersionedCache<>(VersionedCache.Config.of(maxKeys + 1L, VersionedCache.NO_EXPIRY));
        this.refreshWarning = new RateLimitedWarning(log, Clock.systemUTC(), WARNING_INTERVAL_MS);
    }

    /**
     * Pins a key and loads its value now, on the calling thread.
     *
     * @return {@code true} when the key is pinned; {@code false} when {@code maxKeys} keys are pinned already, the row
     *         does not exist or its value fails {@code keepPinned}
     * @throws StorageException when the database read fails; the key stays pinned and the next read fills it
     */
    public boolean pin(String key) {
        Objects.requireNonNull(key, "key");
        synchronized (pinnedKeys) {
            if (!pinnedKeys.contains(key) && pinnedKeys.size() >= maxKeys) {
                return false;
            }
            pinnedKeys.add(key);
        }
        return reload(key);
    }

    /** Pins a key and loads its value on the refresh executor. */
    public void pinLater(String key) {
        Objects.requireNonNull(key, "key");
        if (isPinned(key)) {
            return;
        }
        execute(() -> {
            try {
                pin(key);
            } catch (RuntimeException e) {
                failedRefreshes.increment();
                refreshWarning.warn("Cannot pin {} key {}; reads use the other tiers: {}", name, key, e.toString());
            }
        });
    }

    /** Unpins a key and drops its value. */
    public void unpin(String key) {
        if (pinnedKeys.remove(key)) {
            values.invalidate(key, -1);
            log.debug("Unpinned {}", key);
        }
    }

    public boolean isPinned(String key) {
        return pinnedKeys.contains(key);
    }

    /** Returns how many keys are pinned. */
    public int pinnedCount() {
        return pinnedKeys.size();
    }

    /** Returns the value of a pinned key, counting a hit or a miss; an unpinned key is a miss without counting. */
    public CacheLookup<V> lookup(String key) {
        if (!pinnedKeys.contains(key)) {
            return CacheLookup.miss();
        }
        return values.lookup(key);
    }

    /** Takes a lease before a read that may fill this cache; see {@link VersionedCache#lease()}. */
    public VersionedCache.Lease lease() {
        return values.lease();
    }

    /**
     * Stores the value of a pinned key read under {@code lease}, unless an invalidation makes it stale. Does nothing
     * for a key that is not pinned or a value that fails {@code keepPinned}.
     *
     * @return {@code true} when stored
     */
    public boolean fill(String key, VersionedCache.Lease lease, V value, long version) {
        if (!pinnedKeys.contains(key) || !keepPinned.test(value)) {
            return false;
        }
        return values.fill(key, lease, value, version);
    }

    /**
     * Applies an invalidation: evicts the value now and, when the key is pinned, reloads it on the refresh executor.
     *
     * @param version the row version after the change, or -1 when unknown
     */
    public void invalidate(String key, long version) {
        values.invalidate(key, version);
        if (pinnedKeys.contains(key) && pendingRefreshes.add(key)) {
            execute(() -> refreshAfterInvalidation(key));
        }
    }

    /** Returns the counters of the pinned values: hits and misses of pinned keys, fills, rejected fills, evictions. */
    public VersionedCache.Stats stats() {
        return values.stats();
    }

    /** Returns how many reloads ran after invalidations or pins. */
    public long refreshes() {
        return refreshes.sum();
    }

    /**
     * Registers the meters of {@link VersionedCache#bindTo(MeterRegistry, String, String)} as tier {@code pinned},
     * the gauge {@code backbone.cache.pinned.keys} and the counter {@code backbone.cache.pinned.refreshes} with tag
     * {@code result} ok or failed.
     */
    public void bindTo(MeterRegistry registry) {
        values.bindTo(registry, name, "pinned");
        Gauge.builder("backbone.cache.pinned.keys", pinnedKeys, Set::size)
                .tag("cache", name).description("keys pinned in the cache for hot entities").register(registry);
        FunctionCounter.builder("backbone.cache.pinned.refreshes", refreshes, LongAdder::sum)
                .tags("cache", name, "result", "ok").description("reloads of pinned keys").register(registry);
        FunctionCounter.builder("backbone.cache.pinned.refreshes", failedRefreshes, LongAdder::sum)
                .tags("cache", name, "result", "failed").description("reloads of pinned keys").register(registry);
    }

    private void refreshAfterInvalidation(String key) {
        // Cleared before the reload takes its lease: an invalidation from now on schedules a reload of its own.
        pendingRefreshes.remove(key);
        try {
            reload(key);
        } catch (RuntimeException e) {
            failedRefreshes.increment();
            refreshWarning.warn("Cannot reload pinned {} key {}; it is read through the other tiers until the next read"
                    + " fills it: {}", name, key, e.toString());
        }
    }

    /** Loads a pinned key under a fresh lease; unpins it when the row is gone or no longer qualifies. */
    private boolean reload(String key) {
        if (!pinnedKeys.contains(key)) {
            return false;
        }
        VersionedCache.Lease lease = values.lease();
        Optional<Versioned<V>> loaded = loader.apply(key);
        refreshes.increment();
        if (loaded.isEmpty() || !keepPinned.test(loaded.get().value())) {
            unpin(key);
            return false;
        }
        values.fill(key, lease, loaded.get().value(), loaded.get().version());
        return true;
    }

    private void execute(Runnable task) {
        try {
            refreshExecutor.execute(task);
        } catch (RejectedExecutionException e) {
            log.debug("Reload of a pinned {} key skipped: the refresh executor is shut down", name);
        }
    }
}
