package dev.backbone.appserver;

import com.zaxxer.hikari.HikariDataSource;
import dev.backbone.events.DeadLetterPublisher;
import dev.backbone.events.KafkaClientMeters;
import dev.backbone.events.Topics;
import dev.backbone.storage.AccountRepository;
import dev.backbone.storage.Database;
import dev.backbone.storage.ProductRepository;
import dev.backbone.storage.StaticAssetRepository;
import dev.backbone.storage.TieredCache;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One app server: handles the requests routed to its pool and writes their responses, keeps cache tiers (pinned, L1
 * and optionally Redis L2) that invalidations evict, and heartbeats to the load balancer.
 *
 * <p>It starts two consumer threads, a worker pool of {@link AppServerConfig#workerThreads()} threads, a heartbeat
 * thread, a thread that reloads pinned keys, a thread that refreshes the Kafka client meters, one Kafka producer, a database pool and, with {@code redis.uri}, a Redis
 * connection; {@link #close()} stops and releases all of them. The database schema must exist already: run
 * {@link Database#migrate} once before starting servers. Thread-safe.
 */
public final class AppServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AppServer.class);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration PRODUCER_CLOSE_TIMEOUT = Duration.ofSeconds(5);
    /** Idle consumers ask the broker at this interval; new records are returned as soon as they arrive. */
    private static final String FETCH_MAX_WAIT_MS = "100";

    private final AppServerConfig config;
    private final List<AutoCloseable> started = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private EntityCaches caches;
    private Authenticator authenticator;
    private RequestHandler handler;
    private RoutedRequestLoop requestLoop;
    private InvalidationLoop invalidationLoop;
    private DeadLetterPublisher requestDeadLetters;
    private DeadLetterPublisher invalidationDeadLetters;
    private boolean closed;

    private AppServer(AppServerConfig config) {
        this.config = config;
    }

    /**
     * Starts a server with the system clock.
     *
     * @throws RuntimeException from HikariCP, Kafka or Redis when the database, the brokers or the configured Redis
     *                          cannot be reached; whatever was started is closed again
     */
    public static AppServer start(AppServerConfig config, MeterRegistry registry) {
        return start(config, registry, Clock.systemUTC());
    }

    /** Starts a server that reads {@code clock} for request deadlines, response times and lag measurements. */
    static AppServer start(AppServerConfig config, MeterRegistry registry, Clock clock) {
        var server = new AppServer(config);
        try {
            server.startComponents(registry, clock);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        log.info("App server {} started in pool {}: {} worker threads, L1 cache of {} entries per kind for {} ms, L2 {}",
                config.serverId(), config.pool(), config.workerThreads(), config.cache().maxEntries(),
                config.cache().ttl().toMillis(), config.cache().redis() == null ? "off" : "in Redis");
        return server;
    }

    private void startComponents(MeterRegistry registry, Clock clock) {
        HikariDataSource dataSource = Database.pool(config.jdbcUrl(), config.dbPoolSize());
        started.add(dataSource);
        var timers = new QueryTimers(registry);
        var products = new ProductRepository(dataSource);
        caches = EntityCaches.start(config.serverId(), config.cache(), products, new AccountRepository(dataSource),
                new StaticAssetRepository(dataSource), timers, registry, clock);
        started.add(0, caches);
        authenticator = new Authenticator(new TokenVerifier(config.auth().secretBytes(), config.auth().clockSkew(), clock), registry);
        var responses = new Responses(config.serverId(), clock);
        handler = new RequestHandler(new ProductEndpoints(products, caches.products, authenticator, timers, responses, config.cdn()),
                new AccountEndpoints(caches.accounts, authenticator, responses),
                new StaticEndpoints(caches.assets, authenticator, config.cdn(), responses, clock), responses, clock, registry);

        var producer = new KafkaProducer<>(producerConfig(config), new ByteArraySerializer(), new ByteArraySerializer());
        // Bounded, because close() without a timeout waits for unsent records as long as the broker is unreachable.
        started.add(0, () -> producer.close(PRODUCER_CLOSE_TIMEOUT));
        requestDeadLetters = new DeadLetterPublisher(producer, config.requestGroupId());
        invalidationDeadLetters = new DeadLetterPublisher(producer, config.invalidationGroupId());

        ExecutorService workers = Executors.newFixedThreadPool(config.workerThreads(), namedThreads("app-server-worker-" + config.serverId()));
        started.add(0, () -> stopExecutor(workers));

        var heartbeater = new Heartbeater(producer, config.serverId(), config.pool(), config.heartbeatInterval(),
                () -> requestLoop.assignedPartitions(), clock);
        var requestConsumer = new KafkaConsumer<>(requestConsumerConfig(config), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        requestLoop = new RoutedRequestLoop(requestConsumer,
                producer, requestDeadLetters, handler::handle, workers, config.pool(), clock, heartbeater::beatNow, config.pollMaxRecords());
        var invalidationConsumer = new KafkaConsumer<>(invalidationConsumerConfig(config), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        invalidationLoop = new InvalidationLoop(invalidationConsumer,
                invalidationDeadLetters, caches, clock, registry);
        registerMeters(registry);

        var kafkaMeters = new KafkaClientMeters(registry, config.serverId());
        kafkaMeters.bind(producer);
        kafkaMeters.bind(requestConsumer);
        kafkaMeters.bind(invalidationConsumer);

        startThread(invalidationLoop, "app-server-invalidations-" + config.serverId(), invalidationLoop::stop);
        startThread(() -> {
            try {
                requestLoop.run();
            } catch (RuntimeException e) {
                // The server no longer handles requests: the DRAINING heartbeat, and no UP heartbeat after it, make the
                // load balancer take it out of the pool.
                heartbeater.close();
                throw e;
            }
        }, "app-server-requests-" + config.serverId(), requestLoop::stop);
        // Closed before the loops that close the consumers, and before the producer.
        started.add(0, kafkaMeters);
        // Closed first: the last heartbeat announces DRAINING before the consumers leave their groups.
        started.add(0, heartbeater);
        heartbeater.start();
    }

    private void registerMeters(MeterRegistry registry) {
        FunctionCounter.builder("backbone.app.requests.skipped", requestLoop, RoutedRequestLoop::expiredRequests)
                .tag("reason", "expired").description("requests not answered because the client deadline had passed")
                .register(registry);
        FunctionCounter.builder("backbone.app.requests.skipped", requestLoop, RoutedRequestLoop::otherPoolRequests)
                .tag("reason", "other_pool").description("requests not answered because they were routed to another pool")
                .register(registry);
        FunctionCounter.builder("backbone.app.dead.letters", requestDeadLetters, DeadLetterPublisher::published)
                .tag("topic", Topics.ROUTED_REQUESTS.name()).description("records sent to the dead-letter topic")
                .register(registry);
        FunctionCounter.builder("backbone.app.dead.letters", invalidationDeadLetters, DeadLetterPublisher::published)
                .tag("topic", Topics.CACHE_INVALIDATIONS.name()).description("records sent to the dead-letter topic")
                .register(registry);
    }

    private void startThread(Runnable loop, String name, Runnable stop) {
        var thread = new Thread(loop, name);
        thread.start();
        threads.add(thread);
        started.add(0, () -> {
            stop.run();
            thread.join(STOP_TIMEOUT.toMillis());
            if (thread.isAlive()) {
                log.warn("Thread {} did not stop within {}", name, STOP_TIMEOUT);
            }
        });
    }

    static Map<String, Object> producerConfig(AppServerConfig config) {
        return config.kafkaClient().applyTo(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
                ProducerConfig.CLIENT_ID_CONFIG, "app-server-" + config.serverId(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                // A client waits for each response, so a send waits at most 1 ms for others to batch with.
                ProducerConfig.LINGER_MS_CONFIG, 1));
    }

    static Map<String, Object> requestConsumerConfig(AppServerConfig config) {
        return config.kafkaClient().applyTo(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, config.requestGroupId(),
                ConsumerConfig.CLIENT_ID_CONFIG, "app-server-" + config.serverId() + "-requests",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                // A new group starts at the oldest retained request; requests past their deadline are skipped.
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.pollMaxRecords(),
                // The consumer group protocol of KIP-848 moves only the partitions that change owner, without a
                // group-wide barrier, so the other partitions keep being served and commits keep working meanwhile.
                ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, FETCH_MAX_WAIT_MS));
    }

    static Map<String, Object> invalidationConsumerConfig(AppServerConfig config) {
        return config.kafkaClient().applyTo(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, config.invalidationGroupId(),
                ConsumerConfig.CLIENT_ID_CONFIG, "app-server-" + config.serverId() + "-invalidations",
                // A restarted server has an empty cache, so older invalidations have nothing to evict.
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, true,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, FETCH_MAX_WAIT_MS));
    }

    public AppServerConfig config() {
        return config;
    }

    /**
     * Returns whether this server has partitions of {@code backbone.routed-requests} assigned and its invalidation
     * consumer has looked up its start offsets, so that it handles requests and misses no invalidation written from
     * now on.
     */
    public boolean ready() {
        return !requestLoop.assignedPartitions().isEmpty() && invalidationLoop.ready();
    }

    public AppServerStats stats() {
        TieredCache.Stats tiers = caches.stats();
        long cacheHits = tiers.pinnedHits() + tiers.l1Hits() + tiers.l2Hits();
        return new AppServerStats(cacheHits, tiers.databaseReads(), tiers.l1RefusedFills(),
                handler.answeredByStatusClass(), requestLoop.expiredRequests(),
                requestDeadLetters.published() + invalidationDeadLetters.published(),
                requestLoop.assignedPartitions(), invalidationLoop.lagHistogram(), tiers.pinnedHits(), tiers.l1Hits(),
                tiers.l2Hits(), tiers.l2RefusedFills(), tiers.l2Errors(), authenticator.failuresByReason());
    }

    /** Returns the number of keys pinned now, products, accounts and static assets together. */
    public int pinnedKeys() {
        return caches.products.pinned().pinnedCount() + caches.accounts.pinned().pinnedCount()
                + caches.assets.pinned().pinnedCount();
    }

    /**
     * Sends a DRAINING heartbeat, stops the consumers once the requests in progress are answered, then closes the
     * worker pool, the producer, the cache tiers and the database pool. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (AutoCloseable resource : started) {
            try {
                resource.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                log.warn("Cannot close a resource of app server {}: {}", config.serverId(), e.toString());
            }
        }
        log.info("App server {} stopped", config.serverId());
    }

    private static void stopExecutor(ExecutorService executor) throws InterruptedException {
        executor.shutdown();
        if (!executor.awaitTermination(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            executor.shutdownNow();
        }
    }

    private static java.util.concurrent.ThreadFactory namedThreads(String prefix) {
        var counter = new AtomicInteger();
        return runnable -> new Thread(runnable, prefix + "-" + counter.incrementAndGet());
    }
}
