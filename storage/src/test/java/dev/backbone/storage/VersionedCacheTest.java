package dev.backbone.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class VersionedCacheTest {

    private static final Duration TTL = Duration.ofMinutes(1);

    private final VersionedCache<Long, String> cache = new VersionedCache<>(VersionedCache.Config.of(100, TTL));

    @Test
    void staleFillAfterInvalidationIsRefused() {
        // A read misses and takes its lease, then loads version 1 from the database but stalls before filling.
        assertThat(cache.getIfPresent(42L)).isEmpty();
        VersionedCache.Lease lease = cache.lease();
        String loadedBeforeWrite = "price 100 (v1)";

        // A write commits version 2 and its invalidation arrives while the read is stalled.
        cache.invalidate(42L, 2);

        assertThat(cache.fill(42L, lease, loadedBeforeWrite, 1)).isFalse();
        assertThat(cache.getIfPresent(42L)).isEmpty();

        Optional<String> next = cache.get(42L, id -> Optional.of(new Versioned<>("price 120 (v2)", 2)));
        assertThat(next).contains("price 120 (v2)");
        assertThat(cache.getIfPresent(42L)).contains("price 120 (v2)");

        VersionedCache.Stats stats = cache.stats();
        assertThat(stats.refusedFills()).isEqualTo(1);
        assertThat(stats.fills()).isEqualTo(1);
        assertThat(stats.misses()).isEqualTo(3);
        assertThat(stats.hits()).isEqualTo(1);
    }

    @Test
    void stalledLoaderOnAnotherThreadIsRefused() throws Exception {
        var loaderStarted = new CountDownLatch(1);
        var releaseLoader = new CountDownLatch(1);
        CompletableFuture<Optional<String>> slowRead = CompletableFuture.supplyAsync(() -> cache.get(42L, id -> {
            loaderStarted.countDown();
            await(releaseLoader);
            return Optional.of(new Versioned<>("v1", 1));
        }));
        assertThat(loaderStarted.await(10, TimeUnit.SECONDS)).isTrue();

        cache.invalidate(42L, 2);
        releaseLoader.countDown();

        assertThat(slowRead.get(10, TimeUnit.SECONDS)).as("the slow read still answers what it read").contains("v1");
        assertThat(cache.getIfPresent(42L)).as("but does not cache it").isEmpty();
        assertThat(cache.stats().refusedFills()).isEqualTo(1);
    }

    @Test
    void fillOlderThanInvalidatedVersionIsRefused() {
        cache.invalidate(7L, 5);
        VersionedCache.Lease leaseAfterInvalidation = cache.lease();

        assertThat(cache.fill(7L, leaseAfterInvalidation, "v4 from a lagging source", 4)).isFalse();
        assertThat(cache.fill(7L, leaseAfterInvalidation, "v5", 5)).isTrue();
        assertThat(cache.getIfPresent(7L)).contains("v5");
    }

    @Test
    void fillIsAcceptedWithoutInvalidation() {
        VersionedCache.Lease lease = cache.lease();
        cache.invalidate(8L, 3);

        assertThat(cache.fill(9L, lease, "other key", 1)).isTrue();
        assertThat(cache.getIfPresent(9L)).contains("other key");
    }

    @Test
    void olderFillDoesNotReplaceNewerValue() {
        assertThat(cache.fill(1L, cache.lease(), "v3", 3)).isTrue();
        assertThat(cache.fill(1L, cache.lease(), "v2", 2)).isTrue();

        assertThat(cache.getIfPresent(1L)).contains("v3");
    }

    @Test
    void invalidationKeepsValueAtAnnouncedVersion() {
        cache.fill(1L, cache.lease(), "v3", 3);

        assertThat(cache.invalidate(1L, 2)).isFalse();
        assertThat(cache.invalidate(1L, 3)).isFalse();
        assertThat(cache.getIfPresent(1L)).contains("v3");

        assertThat(cache.invalidate(1L, 4)).isTrue();
        assertThat(cache.getIfPresent(1L)).isEmpty();
        assertThat(cache.stats().evictions()).isEqualTo(1);
    }

    @Test
    void unknownVersionEvictsAnyValue() {
        cache.fill(1L, cache.lease(), "v9", 9);

        assertThat(cache.invalidate(1L, -1)).isTrue();
        assertThat(cache.getIfPresent(1L)).isEmpty();
    }

    @Test
    void rowCreatedAgainAfterDeleteCanBeCached() {
        cache.invalidate(1L, 9);
        cache.invalidate(1L, -1);
        VersionedCache.Lease lease = cache.lease();

        assertThat(cache.fill(1L, lease, "recreated v1", 1)).isTrue();
    }

    @Test
    void forgottenInvalidationRejectsOlderLeases() {
        var small = new VersionedCache<Long, String>(new VersionedCache.Config(100, TTL, 2));
        VersionedCache.Lease oldLease = small.lease();
        small.invalidate(1L, 2);
        small.invalidate(2L, 2);
        small.invalidate(3L, 2);

        assertThat(small.fill(1L, oldLease, "v1", 1)).as("the invalidation of key 1 is forgotten").isFalse();
        assertThat(small.fill(4L, oldLease, "v1", 1)).as("the lease may have raced any forgotten invalidation").isFalse();
        assertThat(small.fill(4L, small.lease(), "v1", 1)).isTrue();
    }

    @Test
    void valueExpiresAfterTimeToLive() {
        var nanos = new AtomicLong();
        Ticker ticker = nanos::get;
        var timed = new VersionedCache<Long, String>(VersionedCache.Config.of(100, TTL), ticker);
        timed.fill(1L, timed.lease(), "v1", 1);

        nanos.addAndGet(TTL.toNanos() - 1);
        assertThat(timed.getIfPresent(1L)).contains("v1");

        nanos.addAndGet(1);
        assertThat(timed.getIfPresent(1L)).isEmpty();
    }

    @Test
    void emptyLoadIsNotCached() {
        var loads = new AtomicLong();

        cache.get(5L, id -> {
            loads.incrementAndGet();
            return Optional.empty();
        });
        Optional<String> second = cache.get(5L, id -> {
            loads.incrementAndGet();
            return Optional.empty();
        });

        assertThat(second).isEmpty();
        assertThat(loads).hasValue(2);
    }

    @Test
    void negativeEntryExpiresAfterNegativeTtl() {
        var nanos = new AtomicLong();
        var timed = new VersionedCache<Long, String>(VersionedCache.Config.of(100, TTL, Duration.ofSeconds(5)), nanos::get);
        var loads = new AtomicLong();

        timed.get(5L, id -> {
            loads.incrementAndGet();
            return Optional.empty();
        });
        assertThat(timed.lookup(5L).kind()).isEqualTo(CacheLookup.Kind.ABSENT);

        nanos.addAndGet(Duration.ofSeconds(5).toNanos());
        assertThat(timed.lookup(5L).kind()).isEqualTo(CacheLookup.Kind.MISS);
        assertThat(loads).hasValue(1);
    }

    @Test
    void insertInvalidationEvictsNegativeEntry() {
        var negative = new VersionedCache<Long, String>(VersionedCache.Config.of(100, TTL, Duration.ofSeconds(5)));
        assertThat(negative.fillAbsent(5L, negative.lease())).isTrue();

        assertThat(negative.invalidate(5L, 1)).isTrue();

        assertThat(negative.lookup(5L).kind()).isEqualTo(CacheLookup.Kind.MISS);
        assertThat(negative.fillAbsent(5L, negative.lease())).as("the row exists at version 1 now").isFalse();
        assertThat(negative.fill(5L, negative.lease(), "v1", 1)).isTrue();
    }

    @Test
    void negativeFillRacingInsertIsRefused() {
        var negative = new VersionedCache<Long, String>(VersionedCache.Config.of(100, TTL, Duration.ofSeconds(5)));
        VersionedCache.Lease lease = negative.lease();

        negative.invalidate(5L, 1);

        assertThat(negative.fillAbsent(5L, lease)).isFalse();
        assertThat(negative.lookup(5L).kind()).isEqualTo(CacheLookup.Kind.MISS);
    }

    @Test
    void negativeEntriesOffByDefault() {
        assertThat(cache.fillAbsent(5L, cache.lease())).isFalse();
        assertThat(cache.lookup(5L).kind()).isEqualTo(CacheLookup.Kind.MISS);
        assertThat(cache.stats().refusedFills()).isZero();
    }

    @Test
    void noExpiryKeepsValueForever() {
        var nanos = new AtomicLong();
        var forever = new VersionedCache<Long, String>(VersionedCache.Config.of(10, VersionedCache.NO_EXPIRY), nanos::get);
        forever.fill(1L, forever.lease(), "v1", 1);

        nanos.addAndGet(Duration.ofDays(3650).toNanos());

        assertThat(forever.getIfPresent(1L)).contains("v1");
    }

    @Test
    void refusedFillKeepsExpiryOfCurrentValue() {
        var nanos = new AtomicLong();
        var timed = new VersionedCache<Long, String>(VersionedCache.Config.of(100, TTL), nanos::get);
        timed.fill(1L, timed.lease(), "v3", 3);

        nanos.addAndGet(TTL.toNanos() - 1);
        timed.fill(1L, timed.lease(), "v2", 2);
        nanos.addAndGet(1);

        assertThat(timed.getIfPresent(1L)).as("an older fill does not extend the newer value's life").isEmpty();
    }

    @Test
    void metersReadTheCounters() {
        var registry = new SimpleMeterRegistry();
        cache.bindTo(registry, "product");
        cache.getIfPresent(1L);
        VersionedCache.Lease lease = cache.lease();
        cache.invalidate(1L, 2);
        cache.fill(1L, lease, "v1", 1);
        cache.fill(2L, cache.lease(), "v1", 1);
        cache.getIfPresent(2L);

        assertThat(registry.get("backbone.cache.gets").tags("cache", "product", "result", "hit").functionCounter().count())
                .isEqualTo(1.0);
        assertThat(registry.get("backbone.cache.gets").tags("cache", "product", "result", "miss").functionCounter().count())
                .isEqualTo(1.0);
        assertThat(registry.get("backbone.cache.fills.refused").tags("cache", "product").functionCounter().count())
                .isEqualTo(1.0);
        assertThat(registry.get("backbone.cache.size").tags("cache", "product").gauge().value()).isEqualTo(1.0);
        assertThat(registry.get("backbone.cache.gets").tags("cache", "product", "tier", "l1", "result", "hit")
                .functionCounter().count()).isEqualTo(1.0);
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("latch was not released within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
