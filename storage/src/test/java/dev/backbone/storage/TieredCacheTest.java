package dev.backbone.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The tiers without Redis: pinned cache and L1 over a map standing in for the database. */
class TieredCacheTest {

    private static final Duration TTL = Duration.ofMinutes(1);
    private static final Instant AT = Instant.parse("2024-06-01T12:00:00Z");

    private final Map<String, Product> rows = new ConcurrentHashMap<>();
    private final AtomicInteger loads = new AtomicInteger();
    private final AtomicLong tickerNanos = new AtomicLong();
    /** Runs once inside the next load, after the row is read: a write that races the read. */
    private Runnable duringNextLoad;

    private final VersionedCache<String, Product> l1 =
            new VersionedCache<>(VersionedCache.Config.of(100, TTL, Duration.ofSeconds(5)), tickerNanos::get);
    private final PinnedCache<Product> pinned = new PinnedCache<>("product", 10, this::load, product -> true, Runnable::run);
    private final TieredCache<Product> cache = new TieredCache<>("product", Product.class, l1, pinned, null, this::load,
            Clock.fixed(AT, ZoneOffset.UTC));

    @Test
    void missLoadsAndSecondReadHitsL1() {
        rows.put("product:1", product(1, 1));

        TieredCache.Read<Product> first = cache.get("product:1");
        TieredCache.Read<Product> second = cache.get("product:1");

        assertThat(first.tier()).isEqualTo(TieredCache.Tier.DATABASE);
        assertThat(second.tier()).isEqualTo(TieredCache.Tier.L1);
        assertThat(second.value()).contains(product(1, 1));
        assertThat(loads).hasValue(1);
    }

    @Test
    void staleSetRaceIsRefusedInL1() {
        rows.put("product:1", product(1, 1));

        // The read misses and loads version 1; before it fills, version 2 commits and its invalidation is applied.
        duringNextLoad = () -> {
            rows.put("product:1", product(1, 2));
            cache.invalidate("product:1", 2);
        };
        TieredCache.Read<Product> slow = cache.get("product:1");

        assertThat(slow.value().orElseThrow().version()).as("the slow read returns what it read").isEqualTo(1);
        assertThat(cache.stats().l1RefusedFills()).isEqualTo(1);
        TieredCache.Read<Product> next = cache.get("product:1");
        assertThat(next.tier()).isEqualTo(TieredCache.Tier.DATABASE);
        assertThat(next.value().orElseThrow().version()).isEqualTo(2);
        assertThat(cache.get("product:1").tier()).isEqualTo(TieredCache.Tier.L1);
    }

    @Test
    void deletedRowIsNotResurrectedBySlowRead() {
        rows.put("product:1", product(1, 4));

        duringNextLoad = () -> {
            rows.remove("product:1");
            cache.invalidate("product:1", -1);
        };
        cache.get("product:1");

        TieredCache.Read<Product> next = cache.get("product:1");
        assertThat(next.tier()).isEqualTo(TieredCache.Tier.DATABASE);
        assertThat(next.value()).isEmpty();
    }

    @Test
    void negativeEntryIsInvalidatedByInsert() {
        assertThat(cache.get("product:7").value()).isEmpty();
        TieredCache.Read<Product> cachedAbsence = cache.get("product:7");
        assertThat(cachedAbsence.tier()).isEqualTo(TieredCache.Tier.L1);
        assertThat(cachedAbsence.value()).isEmpty();

        rows.put("product:7", product(7, 1));
        cache.invalidate("product:7", 1);

        TieredCache.Read<Product> afterInsert = cache.get("product:7");
        assertThat(afterInsert.tier()).isEqualTo(TieredCache.Tier.DATABASE);
        assertThat(afterInsert.value()).contains(product(7, 1));
    }

    @Test
    void negativeEntryExpires() {
        cache.get("product:7");
        rows.put("product:7", product(7, 1));

        tickerNanos.addAndGet(Duration.ofSeconds(5).toNanos());

        assertThat(cache.get("product:7").value()).as("no invalidation, but the negative TTL ended").contains(product(7, 1));
    }

    @Test
    void pinnedValueOutlivesL1Ttl() {
        rows.put("product:3", product(3, 1));
        pinned.pin("product:3");
        cache.get("product:3");
        int loadsBefore = loads.get();

        tickerNanos.addAndGet(TTL.multipliedBy(100).toNanos());

        TieredCache.Read<Product> read = cache.get("product:3");
        assertThat(read.tier()).isEqualTo(TieredCache.Tier.PINNED);
        assertThat(read.value()).contains(product(3, 1));
        assertThat(loads).hasValue(loadsBefore);
        assertThat(l1.lookup("product:3").kind()).as("L1 has expired it").isEqualTo(CacheLookup.Kind.MISS);
    }

    @Test
    void pinnedValueIsRefreshedByInvalidation() {
        rows.put("product:3", product(3, 1));
        pinned.pin("product:3");

        rows.put("product:3", product(3, 2));
        cache.invalidate("product:3", 2);

        TieredCache.Read<Product> read = cache.get("product:3");
        assertThat(read.tier()).isEqualTo(TieredCache.Tier.PINNED);
        assertThat(read.value().orElseThrow().version()).isEqualTo(2);
    }

    @Test
    void metersCountGetsByTier() {
        var registry = new SimpleMeterRegistry();
        cache.bindTo(registry);
        rows.put("product:1", product(1, 1));
        rows.put("product:2", product(2, 1));
        pinned.pin("product:2");

        cache.get("product:1");
        cache.get("product:1");
        cache.get("product:2");

        assertThat(registry.get("backbone.cache.gets").tags("cache", "product", "tier", "l1", "result", "hit")
                .functionCounter().count()).isEqualTo(1.0);
        assertThat(registry.get("backbone.cache.gets").tags("cache", "product", "tier", "l1", "result", "miss")
                .functionCounter().count()).isEqualTo(1.0);
        assertThat(registry.get("backbone.cache.gets").tags("cache", "product", "tier", "pinned", "result", "hit")
                .functionCounter().count()).isEqualTo(1.0);
        assertThat(registry.get("backbone.cache.pinned.keys").tags("cache", "product").gauge().value()).isEqualTo(1.0);
        assertThat(cache.stats().pinnedHits()).isEqualTo(1);
        assertThat(cache.stats().databaseReads()).isEqualTo(1);
    }

    private Optional<Versioned<Product>> load(String key) {
        loads.incrementAndGet();
        Optional<Versioned<Product>> read = Optional.ofNullable(rows.get(key)).map(row -> new Versioned<>(row, row.version()));
        Runnable racingWrite = duringNextLoad;
        duringNextLoad = null;
        if (racingWrite != null) {
            racingWrite.run();
        }
        return read;
    }

    private static Product product(long id, long version) {
        return new Product(id, 1, "Product " + id + " v" + version, "", 1_000, 5, version, AT);
    }
}
