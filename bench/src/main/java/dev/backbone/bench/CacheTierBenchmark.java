package dev.backbone.bench;

import dev.backbone.storage.Product;
import dev.backbone.storage.ProductRepository;
import dev.backbone.storage.RedisCacheTier;
import dev.backbone.storage.VersionedCache;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Read latency of the three tiers behind an app server, measured in one run on the same catalogue: an L1 hit
 * ({@link VersionedCache#getIfPresent}), an L2 hit ({@link RedisCacheTier#get}: a Redis GET and the JSON decode of the
 * product) and a PostgreSQL read ({@link ProductRepository#findById} on the embedded server). Each benchmark cycles
 * through {@value CacheTierFixture#HOT_KEYS} products that are cached in both tiers, so no read misses.
 *
 * <p>Needs the Redis server of {@code -Dbackbone.bench.redis.uri} (default {@value CacheTierFixture#DEFAULT_REDIS_URI});
 * keys go under a prefix of their own and are deleted at the end. Run with
 * {@code bench/run jmh CacheTierBenchmark -f 1 -wi 3 -i 5 -w 1 -r 1}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CacheTierBenchmark {

    /** The catalogue and both tiers, set up once per fork. */
    @State(Scope.Benchmark)
    public static class Tiers {

        CacheTierFixture fixture;
        VersionedCache<String, Product> l1;

        @Setup(Level.Trial)
        public void setUp() {
            fixture = CacheTierFixture.start();
            l1 = new VersionedCache<>(VersionedCache.Config.of(CacheTierFixture.PRODUCTS, java.time.Duration.ofHours(1)));
            for (long id = 1; id <= CacheTierFixture.HOT_KEYS; id++) {
                Product product = fixture.repository().findById(id).orElseThrow();
                l1.fill(Product.cacheKey(id), l1.lease(), product, product.version());
                fixture.redis().fill(Product.cacheKey(id), product, product.version(), System.currentTimeMillis());
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            fixture.close();
        }
    }

    /** The next product id of one benchmark thread. */
    @State(Scope.Thread)
    public static class Cursor {

        private final String[] keys = new String[CacheTierFixture.HOT_KEYS];
        private int next;

        @Setup(Level.Trial)
        public void setUp() {
            for (int i = 0; i < keys.length; i++) {
                keys[i] = Product.cacheKey(i + 1);
            }
        }

        String nextKey() {
            next = next + 1 == keys.length ? 0 : next + 1;
            return keys[next];
        }

        long nextId() {
            next = next + 1 == keys.length ? 0 : next + 1;
            return next + 1;
        }
    }

    @Benchmark
    public Product l1Hit(Tiers tiers, Cursor cursor) {
        return tiers.l1.getIfPresent(cursor.nextKey()).orElseThrow();
    }

    @Benchmark
    public Product l2Hit(Tiers tiers, Cursor cursor) {
        return tiers.fixture.redis().get(cursor.nextKey(), Product.class).value();
    }

    @Benchmark
    public Product postgresRead(Tiers tiers, Cursor cursor) {
        return tiers.fixture.repository().findById(cursor.nextId()).orElseThrow();
    }
}
