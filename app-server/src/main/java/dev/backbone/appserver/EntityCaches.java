package dev.backbone.appserver;

import dev.backbone.storage.Account;
import dev.backbone.storage.AccountRepository;
import dev.backbone.storage.PinnedCache;
import dev.backbone.storage.Product;
import dev.backbone.storage.ProductRepository;
import dev.backbone.storage.RedisCacheTier;
import dev.backbone.storage.StaticAsset;
import dev.backbone.storage.StaticAssetRepository;
import dev.backbone.storage.TieredCache;
import dev.backbone.storage.VersionedCache;
import dev.backbone.storage.Versioned;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache tiers of one app server, one {@link TieredCache} per entity kind (products, accounts, static assets),
 * sharing one Redis tier when {@code redis.uri} is set, and the routing of invalidations to them by cache key.
 *
 * <p>Pinned keys: verified accounts, and the keys of {@code cache.pinned.keys}, which is how hot keys are reported
 * until the routing layer publishes them as events. Both are pinned on the refresh thread after start, so a server
 * serves requests before its pinned cache is full. {@link #close()} stops the refresh thread and closes the Redis tier.
 */
final class EntityCaches implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EntityCaches.class);
    static final String PRODUCT_PREFIX = "product:";
    static final String ACCOUNT_PREFIX = "account:";
    static final String ASSET_PREFIX = "asset:";
    private static final Pattern ID = Pattern.compile("[0-9]{1,18}");
    private static final String ID_ACCEPTED = "an integer from 0 to 999999999999999999";

    final TieredCache<Product> products;
    final TieredCache<Account> accounts;
    final TieredCache<StaticAsset> assets;
    private final RedisCacheTier redis;
    private final ExecutorService refreshExecutor;
    private final LongAdder ignoredInvalidations = new LongAdder();
    private boolean closed;

    private EntityCaches(TieredCache<Product> products, TieredCache<Account> accounts, TieredCache<StaticAsset> assets,
                         RedisCacheTier redis, ExecutorService refreshExecutor) {
        this.products = products;
        this.accounts = accounts;
        this.assets = assets;
        this.redis = redis;
        this.refreshExecutor = refreshExecutor;
    }

    /**
     * Connects the Redis tier when configured, builds the tiers and schedules the pins.
     *
     * @throws IllegalStateException when Redis is configured but cannot be reached
     */
    static EntityCaches start(String serverId, CacheConfig config, ProductRepository productRepository,
                              AccountRepository accountRepository, StaticAssetRepository assetRepository, QueryTimers timers,
                              MeterRegistry registry, Clock clock) {
        RedisCacheTier redis = config.redis() == null ? null : RedisCacheTier.connect(config.redis());
        ExecutorService refreshExecutor = Executors.newSingleThreadExecutor(runnable -> {
            var thread = new Thread(runnable, "app-server-pinned-refresh-" + serverId);
            thread.setDaemon(true);
            return thread;
        });
        Function<String, Optional<Versioned<Product>>> loadProduct = key -> timers.time("product.find",
                () -> productRepository.findById(parseId(key, PRODUCT_PREFIX))).map(row -> new Versioned<>(row, row.version()));
        Function<String, Optional<Versioned<Account>>> loadAccount = key -> timers.time("account.find",
                () -> accountRepository.findById(parseId(key, ACCOUNT_PREFIX))).map(row -> new Versioned<>(row, row.version()));
        Function<String, Optional<Versioned<StaticAsset>>> loadAsset = key -> timers.time("asset.find",
                () -> assetRepository.findByPath(key.substring(ASSET_PREFIX.length()))).map(row -> new Versioned<>(row, row.version()));

        var caches = new EntityCaches(
                tiers("product", Product.class, config, loadProduct, product -> true, redis, refreshExecutor, clock),
                tiers("account", Account.class, config, loadAccount, Account::verified, redis, refreshExecutor, clock),
                tiers("asset", StaticAsset.class, config, loadAsset, asset -> true, redis, refreshExecutor, clock),
                redis, refreshExecutor);
        caches.products.bindTo(registry);
        caches.accounts.bindTo(registry);
        caches.assets.bindTo(registry);
        caches.schedulePins(config, accountRepository, timers);
        return caches;
    }

    private static <V> TieredCache<V> tiers(String name, Class<V> type, CacheConfig config,
                                            Function<String, Optional<Versioned<V>>> loader, Predicate<V> keepPinned,
                                            RedisCacheTier redis, ExecutorService refreshExecutor, Clock clock) {
        var l1 = new VersionedCache<String, V>(VersionedCache.Config.of(config.maxEntries(), config.ttl(), config.negativeTtl()));
        var pinned = new PinnedCache<>(name, config.pinnedMaxEntries(), loader, keepPinned, refreshExecutor);
        return new TieredCache<>(name, type, l1, pinned, redis, loader, clock);
    }

    private void schedulePins(CacheConfig config, AccountRepository accountRepository, QueryTimers timers) {
        for (String key : config.pinnedKeys()) {
            tiersOf(key).ifPresent(tiers -> tiers.pinned().pinLater(normalizedKey(key)));
        }
        if (config.pinnedMaxEntries() == 0) {
            return;
        }
        refreshExecutor.execute(() -> {
            try {
                List<Long> verified = timers.time("account.verified", () -> accountRepository.findVerifiedIds(config.pinnedMaxEntries()));
                verified.forEach(id -> accounts.pinned().pinLater(ACCOUNT_PREFIX + id));
                log.info("Pinning {} verified accounts and {} configured keys", verified.size(), config.pinnedKeys().size());
            } catch (RuntimeException e) {
                log.warn("Cannot read the verified accounts to pin; they are pinned when first read instead: {}", e.toString());
            }
        });
    }

    /**
     * Applies an invalidation to the tiers of its kind: {@code product:ID}, {@code account:ID} or {@code asset:PATH}.
     * Other kinds, such as {@code category:ID}, are not cached here and are ignored.
     *
     * @return {@code true} when applied, {@code false} when ignored
     * @throws IllegalArgumentException when a key of a cached kind is malformed
     */
    boolean invalidate(String cacheKey, long version) {
        Optional<TieredCache<?>> tiers = tiersOf(cacheKey);
        if (tiers.isEmpty()) {
            ignoredInvalidations.increment();
            return false;
        }
        tiers.get().invalidate(normalizedKey(cacheKey), version);
        return true;
    }

    long ignoredInvalidations() {
        return ignoredInvalidations.sum();
    }

    /** Returns the counters of the three kinds added up. */
    TieredCache.Stats stats() {
        TieredCache.Stats p = products.stats();
        TieredCache.Stats a = accounts.stats();
        TieredCache.Stats s = assets.stats();
        return new TieredCache.Stats(p.pinnedHits() + a.pinnedHits() + s.pinnedHits(), p.l1Hits() + a.l1Hits() + s.l1Hits(),
                p.l1Misses() + a.l1Misses() + s.l1Misses(), p.l2Hits() + a.l2Hits() + s.l2Hits(),
                p.l2Misses() + a.l2Misses() + s.l2Misses(), p.databaseReads() + a.databaseReads() + s.databaseReads(),
                p.l1RefusedFills() + a.l1RefusedFills() + s.l1RefusedFills(),
                p.l2RefusedFills() + a.l2RefusedFills() + s.l2RefusedFills(), p.l2Errors() + a.l2Errors() + s.l2Errors());
    }

    /** Stops the refresh thread and closes the Redis tier. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        refreshExecutor.shutdownNow();
        try {
            refreshExecutor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private Optional<TieredCache<?>> tiersOf(String cacheKey) {
        if (cacheKey.startsWith(PRODUCT_PREFIX)) {
            return Optional.of(products);
        }
        if (cacheKey.startsWith(ACCOUNT_PREFIX)) {
            return Optional.of(accounts);
        }
        if (cacheKey.startsWith(ASSET_PREFIX)) {
            return Optional.of(assets);
        }
        return Optional.empty();
    }

    /** Returns the key in the form the tiers use, such as {@code product:7} for {@code product:007}. */
    static String normalizedKey(String cacheKey) {
        if (cacheKey.startsWith(PRODUCT_PREFIX)) {
            return PRODUCT_PREFIX + parseId(cacheKey, PRODUCT_PREFIX);
        }
        if (cacheKey.startsWith(ACCOUNT_PREFIX)) {
            return ACCOUNT_PREFIX + parseId(cacheKey, ACCOUNT_PREFIX);
        }
        String path = cacheKey.substring(ASSET_PREFIX.length());
        if (!StaticAsset.isValidPath(path)) {
            throw new IllegalArgumentException("cache key " + InvalidInputException.shorten(cacheKey)
                    + " has no valid asset path; accepted: asset:PATH with PATH " + StaticAsset.PATH_ACCEPTED);
        }
        return cacheKey;
    }

    private static long parseId(String cacheKey, String prefix) {
        String id = cacheKey.substring(prefix.length());
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("cache key " + InvalidInputException.shorten(cacheKey) + " has no valid id;"
                    + " accepted: " + prefix + "ID with ID " + ID_ACCEPTED);
        }
        return Long.parseLong(id);
    }
}
