package dev.backbone.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.backbone.embedded.EmbeddedPostgresServer;
import dev.backbone.storage.CatalogueSeeder;
import dev.backbone.storage.Database;
import dev.backbone.storage.ProductRepository;
import dev.backbone.storage.RedisCacheTier;
import dev.backbone.storage.RedisTierConfig;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.UUID;

/**
 * The seeded catalogue on an embedded PostgreSQL and a Redis tier under a key prefix of its own, for the cache tier
 * benchmarks. {@link #close()} deletes the Redis keys and stops PostgreSQL.
 *
 * @param postgres   the embedded server
 * @param pool       a connection pool on it
 * @param repository products
 * @param redis      the L2 tier
 */
record CacheTierFixture(EmbeddedPostgresServer postgres, HikariDataSource pool, ProductRepository repository,
                        RedisCacheTier redis) implements AutoCloseable {

    static final int PRODUCTS = 10_000;
    static final int CATEGORIES = 50;
    static final long SEED = 42L;
    static final int HOT_KEYS = 1_000;
    static final String DEFAULT_REDIS_URI = "redis://127.0.0.1:6379";

    static CacheTierFixture start() {
        var postgres = EmbeddedPostgresServer.start();
        HikariDataSource pool = Database.pool(postgres.jdbcUrl(), 4);
        Database.migrate(pool);
        CatalogueSeeder.seed(pool, CATEGORIES, PRODUCTS, 0, SEED);
        String uri = System.getProperty("backbone.bench.redis.uri", DEFAULT_REDIS_URI);
        var config = new RedisTierConfig(uri, "backbone-bench:" + UUID.randomUUID() + ":cache:", Duration.ofHours(1),
                Duration.ofSeconds(5), Duration.ofMinutes(1), Duration.ofSeconds(2), Duration.ZERO);
        return new CacheTierFixture(postgres, pool, new ProductRepository(pool), RedisCacheTier.connect(config));
    }

    @Override
    public void close() {
        deleteRedisKeys();
        redis.close();
        pool.close();
        postgres.close();
    }

    private void deleteRedisKeys() {
        RedisClient client = RedisClient.create(redis.config().uri());
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                KeyScanCursor<String> page = connection.sync().scan(cursor,
                        ScanArgs.Builder.matches(redis.config().keyPrefix() + "*").limit(1_000));
                if (!page.getKeys().isEmpty()) {
                    connection.sync().del(page.getKeys().toArray(String[]::new));
                }
                cursor = page;
            } while (!cursor.isFinished());
        } finally {
            client.shutdown();
        }
    }
}
