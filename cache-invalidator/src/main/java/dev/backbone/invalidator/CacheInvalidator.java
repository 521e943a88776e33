package dev.backbone.invalidator;

import dev.backbone.events.KafkaClientMeters;
import dev.backbone.events.TopicAdmin;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns committed database writes into cache invalidations and CDN purges.
 *
 * <p>Two parts run on threads of their own. Capture, when {@link CacheInvalidatorConfig#captureEnabled()}, runs the
 * Debezium embedded engine on PostgreSQL and writes each change event to {@code backbone.db-changes}. Processing reads
 * {@code backbone.db-changes}, whether this process or Kafka Connect filled it, and for every stale cache key writes a
 * Redis L2 tombstone when {@link RedisInvalidatorConfig#enabled()}, then an {@link dev.backbone.events.Invalidation}
 * to {@code backbone.cache-invalidations}; every stale surrogate key becomes a {@link dev.backbone.events.PurgeRequest}
 * on {@code backbone.cdn-purges}, coalesced to one per key per {@link CacheInvalidatorConfig#purgeWindowMs()}. Both
 * parts write with {@code acks=all} and idempotence and move their offsets only after Kafka acknowledged, so a crash
 * or restart repeats work but loses no change.
 *
 * <p>Thread-safe. The caller closes the instance and keeps ownership of the meter registry.
 */
public final class CacheInvalidator implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CacheInvalidator.class);

    private final CacheInvalidatorConfig config;
    private final Producer<String, String> captureProducer;
    private final Producer<byte[], byte[]> invalidationProducer;
    private final RedisTombstones redis;
    private final DebeziumCapture capture;
    private final ChangeEventProcessor processor;
    private final KafkaClientMeters kafkaMeters;
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private boolean closed;

    private CacheInvalidator(CacheInvalidatorConfig config, Producer<String, String> captureProducer,
            Producer<byte[], byte[]> invalidationProducer, RedisTombstones redis, DebeziumCapture capture,
            ChangeEventProcessor processor, KafkaClientMeters kafkaMeters) {
        this.config = config;
        this.kafkaMeters = kafkaMeters;
        this.captureProducer = captureProducer;
        this.invalidationProducer = invalidationProducer;
        this.redis = redis;
        this.capture = capture;
        this.processor = processor;
        List<CompletableFuture<Void>> parts = capture == null
                ? List.of(processor.terminated())
                : List.of(capture.terminated(), processor.terminated());
        // A failure of either part completes the future at once, but a normal stop waits for both parts.
        for (CompletableFuture<Void> part : parts) {
            part.whenComplete((ignored, error) -> {
                if (error != null) {
                    terminated.completeExceptionally(error);
                }
            });
        }
        CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenRun(() -> terminated.complete(null));
    }

    /**
     * Creates the missing topics when {@link CacheInvalidatorConfig#createTopics()}, then starts processing and, when
     * enabled, capture. Returns without waiting for capture, so call {@link #awaitCapturing(Duration)} before relying on
     * changes committed right after the start.
     *
     * @throws IllegalStateException when the topics cannot be created, Redis cannot be reached or the offset file
     *                               directory cannot be made
     */
    public static CacheInvalidator start(CacheInvalidatorConfig config, MeterRegistry registry) {
        log.info("Starting cache invalidator: {}", config);
        if (config.createTopics()) {
            try (Admin admin = Admin.create(adminConfig(config))) {
                TopicAdmin.ensureTopics(admin, List.of(Topics.DB_CHANGES, Topics.CACHE_INVALIDATIONS, Topics.CDN_PURGES,
                        Topics.DEAD_LETTERS), config.topicReplicationFactor());
            }
        }
        var metrics = new InvalidatorMetrics(registry, config.tableIncludeList());
        Clock clock = Clock.systemUTC();
        RedisTombstones redis = config.redis().enabled() ? RedisTombstones.connect(config.redis(), clock, metrics) : null;
        Producer<byte[], byte[]> invalidationProducer = new KafkaProducer<>(producerConfig(config, "invalidations"),
                new ByteArraySerializer(), new ByteArraySerializer());
        var consumer = new KafkaConsumer<>(consumerConfig(config), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        var processor = new ChangeEventProcessor(consumer, invalidationProducer, redis,
                new PurgeCoalescer(config.purgeWindowMs(), config.purgeSoft()),
                () -> new KafkaConsumer<>(replayReaderConfig(config), new ByteArrayDeserializer(), new ByteArrayDeserializer()),
                metrics, clock);
        // The replay readers are left out: each lives only while it reads back recent changes after an assignment.
        var kafkaMeters = new KafkaClientMeters(registry, CacheInvalidatorConfig.SERVICE_NAME);
        kafkaMeters.bind(invalidationProducer);
        kafkaMeters.bind(consumer);

        Producer<String, String> captureProducer = null;
        DebeziumCapture capture = null;
        if (config.captureEnabled()) {
            captureProducer = new KafkaProducer<>(producerConfig(config, "capture"), new StringSerializer(), new StringSerializer());
            kafkaMeters.bind(captureProducer);
            try {
                capture = DebeziumCapture.start(config, captureProducer, metrics);
            } catch (RuntimeException e) {
                kafkaMeters.close();
                captureProducer.close();
                invalidationProducer.close();
                consumer.close();
                if (redis != null) {
                    redis.close();
                }
                throw e;
            }
        } else {
            log.info("Capture disabled (capture.enabled=false): only consuming {}", Topics.DB_CHANGES.name());
        }
        processor.start();
        return new CacheInvalidator(config, captureProducer, invalidationProducer, redis, capture, processor, kafkaMeters);
    }

    static Map<String, Object> adminConfig(CacheInvalidatorConfig config) {
        return config.kafkaClient().applyTo(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers()));
    }

    static Map<String, Object> producerConfig(CacheInvalidatorConfig config, String purpose) {
        return config.kafkaClient().applyTo(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
                ProducerConfig.CLIENT_ID_CONFIG, ChangeEventProcessor.GROUP_ID + "-" + purpose,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 0));
    }

    static Map<String, Object> consumerConfig(CacheInvalidatorConfig config) {
        return config.kafkaClient().applyTo(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, ChangeEventProcessor.GROUP_ID,
                ConsumerConfig.CLIENT_ID_CONFIG, ChangeEventProcessor.GROUP_ID + "-changes",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                // A new group starts at the oldest retained change: replaying invalidations is harmless, missing one is not.
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100));
    }

    static Map<String, Object> replayReaderConfig(CacheInvalidatorConfig config) {
        return config.kafkaClient().applyTo(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
                ConsumerConfig.CLIENT_ID_CONFIG, ChangeEventProcessor.GROUP_ID + "-replay-reader",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50));
    }

    /**
     * Waits until database commits made from now on are captured. With capture disabled, Kafka Connect captures and
     * this returns true at once.
     *
     * @return true when capturing, false when the timeout passed or capture stopped first
     * @throws InterruptedException when interrupted while waiting
     */
    public boolean awaitCapturing(Duration timeout) throws InterruptedException {
        if (capture == null) {
            return true;
        }
        return capture.awaitCapturing(timeout);
    }

    /**
     * Returns a future that completes when both parts stopped after {@link #close()}, or completes exceptionally as
     * soon as either fails. The other part may still run after a failure: close the invalidator and start a new one.
     */
    public CompletableFuture<Void> terminated() {
        return terminated;
    }

    /**
     * Stops capture first, so that every captured change is in Kafka, then processing, which publishes the purges
     * still waiting for their window, then the producers and Redis. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        kafkaMeters.close();
        if (capture != null) {
            capture.close();
        }
        processor.close();
        if (captureProducer != null) {
            captureProducer.close();
        }
        invalidationProducer.close();
        if (redis != null) {
            redis.close();
        }
        log.info("Cache invalidator stopped (slot {})", config.slotName());
    }
}
