package dev.backbone.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariDataSource;
import dev.backbone.embedded.EmbeddedPostgresServer;
import dev.backbone.events.Json;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Both cache tiers against real PostgreSQL and the Redis server at 127.0.0.1:6379. Two {@link TieredCache}s sharing
 * one Redis tier stand for two app servers; each test plays the cache invalidator by hand: it writes the tombstone the
 * invalidator writes, then applies the invalidation to both servers.
 */
class TieredCacheIT {

    private static final Duration LATCH_TIMEOUT = Duration.ofSeconds(30);

    private static EmbeddedPostgresServer postgres;
    private static HikariDataSource pool;
    private static ProductRepository products;

    private TestRedis redis;
    private RedisCacheTier l2;
    private final MutableClock clock = new MutableClock(Instant.parse("2024-06-01T12:00:00Z"));
    /** Runs once on the thread of server A's next database read, after the row is read. */
    private final AtomicReference<Runnable> afterNextRead = new AtomicReference<>();
    private TieredCache<Product> serverA;
    private TieredCache<Product> serverB;

    @BeforeAll
    static void startDatabase() {
        postgres = EmbeddedPostgresServer.start();
        pool = Database.pool(postgres.jdbcUrl(), 4);
        Database.migrate(pool);
        CatalogueSeeder.seed(pool, 3, 50, 5, 11L);
        products = new ProductRepository(pool);
    }

    @AfterAll
    static void stopDatabase() {
        if (pool != null) {
            pool.close();
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    @BeforeEach
    void connectRedis() {
        redis = TestRedis.connectOrSkip();
        l2 = RedisCacheTier.connect(redis.tierConfig(Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ZERO));
        serverA = tiers(this::loadOnServerA);
        serverB = tiers(TieredCacheIT::load);
    }

    @AfterEach
    void closeRedis() {
        if (l2 != null) {
            l2.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void staleSetRaceIsRefusedInBothTiers() throws Exception {
        long id = 5;
        var readLoadedV1 = new CountDownLatch(1);
        var releaseRead = new CountDownLatch(1);
        afterNextRead.set(() -> {
            readLoadedV1.countDown();
            await(releaseRead);
        });

        // Server A misses both tiers, reads version 1 from PostgreSQL and stalls before it fills.
        CompletableFuture<TieredCache.Read<Product>> slowRead = CompletableFuture.supplyAsync(() -> serverA.get(Product.cacheKey(id)));
        await(readLoadedV1);

        // An update commits version 2; the invalidator writes its tombstone, then both servers apply the invalidation.
        Product v2 = products.update(id, new ProductUpdate("Renamed during the read", null, null, null)).orElseThrow();
        assertThat(v2.version()).isEqualTo(2);
        writeInvalidatorTombstone(Product.cacheKey(id), 2);
        serverA.invalidate(Product.cacheKey(id), 2);
        serverB.invalidate(Product.cacheKey(id), 2);
        releaseRead.countDown();

        TieredCache.Read<Product> stalled = slowRead.get(LATCH_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertThat(stalled.value().orElseThrow().version()).as("the slow read returns what it read").isEqualTo(1);
        assertThat(serverA.stats().l1RefusedFills()).isEqualTo(1);
        assertThat(serverA.stats().l2RefusedFills()).isEqualTo(1);
        assertThat(storedJson(Product.cacheKey(id)).get("tombstone").asBoolean()).as("Redis keeps the tombstone").isTrue();

        TieredCache.Read<Product> nextOnA = serverA.get(Product.cacheKey(id));
        assertThat(nextOnA.tier()).isEqualTo(TieredCache.Tier.DATABASE);
        assertThat(nextOnA.value().orElseThrow().version()).isEqualTo(2);
        TieredCache.Read<Product> nextOnB = serverB.get(Product.cacheKey(id));
        assertThat(nextOnB.tier()).as("server A filled version 2 into Redis").isEqualTo(TieredCache.Tier.L2);
        assertThat(nextOnB.value().orElseThrow()).isEqualTo(v2);
        assertThat(serverA.get(Product.cacheKey(id)).tier()).isEqualTo(TieredCache.Tier.L1);
    }

    @Test
    void deletedProductIsNotResurrectedBySlowRead() throws Exception {
        long id = products.insert(new NewProduct(1, "Short-lived lamp", "", 500, 2)).row().id();
        String key = Product.cacheKey(id);
        var readLoaded = new CountDownLatch(1);
        var releaseRead = new CountDownLatch(1);
        afterNextRead.set(() -> {
            readLoaded.countDown();
            await(releaseRead);
        });

        CompletableFuture<TieredCache.Read<Product>> slowRead = CompletableFuture.supplyAsync(() -> serverA.get(key));
        await(readLoaded);

        assertThat(products.delete(id, OptionalLong.empty()).status()).isEqualTo(WriteResult.Status.WRITTEN);
        clock.advance(Duration.ofMillis(5));
        // A delete's invalidation has no version: the tombstone's time rejects reads that began before it.
        writeInvalidatorTombstone(key, -1);
        serverA.invalidate(key, -1);
        serverB.invalidate(key, -1);
        releaseRead.countDown();

        assertThat(slowRead.get(LATCH_TIMEOUT.toSeconds(), TimeUnit.SECONDS).value()).isPresent();
        assertThat(serverA.stats().l1RefusedFills()).isEqualTo(1);
        assertThat(serverA.stats().l2RefusedFills()).isEqualTo(1);
        assertThat(storedJson(key).get("tombstone").asBoolean()).isTrue();
        assertThat(serverA.get(key).value()).isEmpty();
        assertThat(serverB.get(key).value()).isEmpty();
    }

    @Test
    void negativeEntryIsInvalidatedByInsert() throws SQLException {
        long nextId = queryLong("SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM products_id_seq");
        String key = Product.cacheKey(nextId);

        assertThat(serverA.get(key).value()).isEmpty();
        TieredCache.Read<Product> absentOnB = serverB.get(key);
        assertThat(absentOnB.tier()).as("server A stored the negative entry in Redis").isEqualTo(TieredCache.Tier.L2);
        assertThat(absentOnB.value()).isEmpty();
        assertThat(serverB.get(key).tier()).isEqualTo(TieredCache.Tier.L1);

        Product inserted = products.insert(new NewProduct(2, "Brand-new clock", "", 1_200, 4)).row();
        assertThat(inserted.id()).isEqualTo(nextId);
        clock.advance(Duration.ofMillis(5));
        writeInvalidatorTombstone(key, 1);
        serverA.invalidate(key, 1);
        serverB.invalidate(key, 1);

        assertThat(serverA.get(key).value()).contains(inserted);
        TieredCache.Read<Product> onB = serverB.get(key);
        assertThat(onB.tier()).isEqualTo(TieredCache.Tier.L2);
        assertThat(onB.value()).contains(inserted);
    }

    @Test
    void ownWriteTombstoneHidesOldValue() {
        long id = 8;
        String key = Product.cacheKey(id);
        serverA.get(key);
        assertThat(serverB.get(key).tier()).isEqualTo(TieredCache.Tier.L2);

        Product updated = products.update(id, new ProductUpdate(null, null, 777L, null)).orElseThrow();
        clock.advance(Duration.ofMillis(5));
        serverA.invalidateAfterWrite(key, updated.version());

        TieredCache.Read<Product> onA = serverA.get(key);
        assertThat(onA.tier()).isEqualTo(TieredCache.Tier.DATABASE);
        assertThat(onA.value()).contains(updated);
        // Server B has not applied the invalidation yet and still reads its L1.
        assertThat(serverB.get(key).value().orElseThrow().priceCents()).isNotEqualTo(777L);
        serverB.invalidate(key, updated.version());
        assertThat(serverB.get(key).value()).contains(updated);
    }

    @Test
    void l2ValueOlderThanAppliedInvalidationIsSkipped() {
        long id = 9;
        String key = Product.cacheKey(id);
        serverA.get(key);
        Product updated = products.update(id, new ProductUpdate(null, "Now in blue.", null, null)).orElseThrow();

        // Server B applies the invalidation although Redis still contains version 1, as when a tombstone write was lost.
        serverB.invalidate(key, updated.version());

        TieredCache.Read<Product> onB = serverB.get(key);
        assertThat(onB.tier()).isEqualTo(TieredCache.Tier.DATABASE);
        assertThat(onB.value()).contains(updated);
    }

    @Test
    void redisFailureFallsBackToDatabase() {
        String key = Product.cacheKey(10);
        l2.close();

        TieredCache.Read<Product> read = serverA.get(key);

        assertThat(read.tier()).isEqualTo(TieredCache.Tier.DATABASE);
        assertThat(read.value()).isPresent();
        assertThat(serverA.stats().l2Errors()).isGreaterThanOrEqualTo(1);
        assertThat(serverA.get(key).tier()).isEqualTo(TieredCache.Tier.L1);
    }

    private TieredCache<Product> tiers(java.util.function.Function<String, Optional<Versioned<Product>>> loader) {
        var l1 = new VersionedCache<String, Product>(VersionedCache.Config.of(1_000, Duration.ofMinutes(5), Duration.ofSeconds(30)));
        return new TieredCache<>("product", Product.class, l1, null, l2, loader, clock);
    }

    private Optional<Versioned<Product>> loadOnServerA(String key) {
        Optional<Versioned<Product>> read = load(key);
        Runnable stall = afterNextRead.getAndSet(null);
        if (stall != null) {
            stall.run();
        }
        return read;
    }

    private static Optional<Versioned<Product>> load(String key) {
        long id = Long.parseLong(key.substring("product:".length()));
        return products.findById(id).map(product -> new Versioned<>(product, product.version()));
    }

    /** Writes the tombstone JSON of the cache invalidator, in its field order, at the test clock's time. */
    private void writeInvalidatorTombstone(String cacheKey, long invalidatedVersion) {
        redis.commands().set(redis.keyPrefix() + cacheKey, "{\"invalidatedVersion\":" + invalidatedVersion
                + ",\"tombstone\":true,\"atMs\":" + clock.millis() + "}");
    }

    private JsonNode storedJson(String cacheKey) throws Exception {
        return Json.mapper().readTree(redis.commands().get(redis.keyPrefix() + cacheKey));
    }

    private static long queryLong(String sql) throws SQLException {
        try (Connection connection = pool.getConnection(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getLong(1);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(LATCH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("latch was not released within " + LATCH_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A wall clock that tests move by hand. */
    static final class MutableClock extends Clock {

        private final AtomicLong millis;

        MutableClock(Instant start) {
            this.millis = new AtomicLong(start.toEpochMilli());
        }

        void advance(Duration duration) {
            millis.addAndGet(duration.toMillis());
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public long millis() {
            return millis.get();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis());
        }
    }
}
