package dev.backbone.bench;

import dev.backbone.appserver.AppServerConfig;
import dev.backbone.launcher.ZipfDistribution;
import dev.backbone.storage.Product;
import dev.backbone.storage.TieredCache;
import dev.backbone.storage.VersionedCache;
import dev.backbone.storage.Versioned;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Hit ratios of the cache tiers on a Zipf read stream over the seeded catalogue ({@value CacheTierFixture#PRODUCTS}
 * products on an embedded PostgreSQL), read through {@link TieredCache} as an app server reads: one server with L1
 * only, and two servers taking turns (as a round-robin load balancer sends them requests) that share the Redis L2.
 * The L1 TTL is {@link AppServerConfig#DEFAULT_CACHE_TTL_MS}; L1 sizes are the default
 * {@link AppServerConfig#DEFAULT_CACHE_MAX_ENTRIES} and smaller ones. Every run uses the same random seed, so the
 * streams are the same.
 */
@Command(name = "CacheTierHitRatio", mixinStandardHelpOptions = true,
        description = "Prints the hit ratio per cache tier of a Zipf read stream over the seeded catalogue.")
public final class CacheTierHitRatio implements Runnable {

    @Option(names = "--reads", defaultValue = "200000", description = "Reads per scenario (default: ${DEFAULT-VALUE}).")
    int reads;

    @Option(names = "--exponent", defaultValue = "0.99", description = "Zipf exponent (default: ${DEFAULT-VALUE}).")
    double exponent;

    @Option(names = "--seed", defaultValue = "7", description = "Random seed of the stream (default: ${DEFAULT-VALUE}).")
    long seed;

    /** One row of the result table. */
    private record Result(String scenario, long l1Size, int servers, boolean redis, TieredCache.Stats all,
                          TieredCache.Stats secondHalf, long reads) {
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new CacheTierHitRatio()).execute(args));
    }

    @Override
    public void run() {
        if (reads < 2 || !(exponent >= 0)) {
            throw new IllegalArgumentException("--reads must be >= 2 and --exponent >= 0");
        }
        long defaultSize = AppServerConfig.DEFAULT_CACHE_MAX_ENTRIES;
        List<Result> results = new ArrayList<>();
        try (CacheTierFixture fixture = CacheTierFixture.start()) {
            for (long size : new long[] {defaultSize, 1_000, 100}) {
                results.add(measure(fixture, "L1 only, 1 server", size, 1, false));
            }
            for (long size : new long[] {defaultSize, 1_000}) {
                results.add(measure(fixture, "L1 + L2, 2 servers", size, 2, true));
            }
        }
        System.out.printf("Zipf(%.2f) over %,d products, %,d reads per scenario, seed %d%n%n", exponent,
                CacheTierFixture.PRODUCTS, reads, seed);
        System.out.println("| scenario | L1 entries | hit ratio (all tiers) | L1 | L2 | PostgreSQL | hit ratio, 2nd half |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        for (Result result : results) {
            System.out.printf("| %s | %,d | %s | %s | %s | %s | %s |%n", result.scenario(), result.l1Size(),
                    percent(result.reads() - result.all().databaseReads(), result.reads()),
                    percent(result.all().l1Hits(), result.reads()), result.redis() ? percent(result.all().l2Hits(), result.reads()) : "-",
                    percent(result.all().databaseReads(), result.reads()),
                    percent(result.reads() / 2 - result.secondHalf().databaseReads(), result.reads() / 2));
        }
    }

    private Result measure(CacheTierFixture fixture, String scenario, long l1Size, int servers, boolean withRedis) {
        var zipf = new ZipfDistribution(CacheTierFixture.PRODUCTS, exponent);
        var random = new SplittableRandom(seed);
        List<TieredCache<Product>> tiers = new ArrayList<>();
        for (int i = 0; i < servers; i++) {
            var l1 = new VersionedCache<String, Product>(VersionedCache.Config.of(l1Size,
                    Duration.ofMillis(AppServerConfig.DEFAULT_CACHE_TTL_MS), Duration.ofMillis(AppServerConfig.DEFAULT_CACHE_NEGATIVE_TTL_MS)));
            tiers.add(new TieredCache<>("product", Product.class, l1, null, withRedis ? fixture.redis() : null,
                    key -> load(fixture, key), Clock.systemUTC()));
        }
        TieredCache.Stats halfway = null;
        for (int i = 0; i < reads; i++) {
            if (i == reads / 2) {
                halfway = sum(tiers);
            }
            int rank = zipf.sample(random);
            tiers.get(i % servers).get(Product.cacheKey(rank));
        }
        TieredCache.Stats all = sum(tiers);
        if (withRedis) {
            // The next scenario starts with an empty L2, as this one did.
            for (int rank = 1; rank <= CacheTierFixture.PRODUCTS; rank++) {
                fixture.redis().writeTombstone(Product.cacheKey(rank), -1, 0);
            }
        }
        return new Result(scenario, l1Size, servers, withRedis, all, minus(all, halfway), reads);
    }

    private static Optional<Versioned<Product>> load(CacheTierFixture fixture, String key) {
        long id = Long.parseLong(key.substring("product:".length()));
        return fixture.repository().findById(id).map(product -> new Versioned<>(product, product.version()));
    }

    private static TieredCache.Stats sum(List<TieredCache<Product>> tiers) {
        long l1Hits = 0;
        long l2Hits = 0;
        long databaseReads = 0;
        for (TieredCache<Product> tier : tiers) {
            TieredCache.Stats stats = tier.stats();
            l1Hits += stats.l1Hits();
            l2Hits += stats.l2Hits();
            databaseReads += stats.databaseReads();
        }
        return new TieredCache.Stats(0, l1Hits, 0, l2Hits, 0, databaseReads, 0, 0, 0);
    }

    private static TieredCache.Stats minus(TieredCache.Stats end, TieredCache.Stats start) {
        return new TieredCache.Stats(0, end.l1Hits() - start.l1Hits(), 0, end.l2Hits() - start.l2Hits(), 0,
                end.databaseReads() - start.databaseReads(), 0, 0, 0);
    }

    private static String percent(long part, long whole) {
        return String.format("%.1f %%", 100.0 * part / whole);
    }
}
