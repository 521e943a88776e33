package dev.backbone.invalidator;

import dev.backbone.events.DeadLetterPublisher;
import dev.backbone.events.Invalidation;
import dev.backbone.events.PurgeRequest;
import dev.backbone.events.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code backbone.db-changes} and writes one {@link Invalidation} to {@code backbone.cache-invalidations} and one
 * hard {@link PurgeRequest} to {@code backbone.cdn-purges} per stale cache key. Offsets are committed only after Kafka
 * acknowledged every record written for a batch, so a crash replays changes and never skips one. Unreadable change
 * events go to {@code backbone.dead-letters} and processing continues.
 *
 * <p>Runs on one thread of its own, started by {@link #start()}. The consumer is used only on that thread; the producer
 * belongs to the caller, who closes it after {@link #close()}.
 */
final class ChangeEventProcessor implements AutoCloseable {

    /** The consumer group of every cache invalidator instance; instances split the partitions of the topic. */
    static final String GROUP_ID = "backbone-cache-invalidator";

    private static final Logger log = LoggerFactory.getLogger(ChangeEventProcessor.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final long IGNORED_WARNING_INTERVAL_MS = 60_000;

    /** One change whose invalidations and purges were sent and await Kafka's acknowledgement. */
    private record PendingChange(long commitAtMs, List<Future<RecordMetadata>> invalidations, List<Future<RecordMetadata>> purges) {
    }

    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final DeadLetterPublisher deadLetters;
    private final InvalidatorMetrics metrics;
    private final Clock clock;
    private final ChangeEventParser parser = new ChangeEventParser();
    private final InvalidationMapper mapper = new InvalidationMapper();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private final Thread thread;
    private volatile boolean closing;
    private long lastTruncateWarningMs = Long.MIN_VALUE;
    private long truncatesSinceWarning;

    ChangeEventProcessor(Consumer<byte[], byte[]> consumer, Producer<byte[], byte[]> producer, InvalidatorMetrics metrics, Clock clock) {
        this.consumer = consumer;
        this.producer = producer;
        this.deadLetters = new DeadLetterPublisher(producer, GROUP_ID);
        this.metrics = metrics;
        this.clock = clock;
        this.thread = new Thread(this::run, "cache-invalidator-consumer");
    }

    void start() {
        thread.start();
    }

    /** Returns a future that completes when the loop stops: normally after {@link #close()}, exceptionally on a fatal error. */
    CompletableFuture<Void> terminated() {
        return terminated;
    }

    private void run() {
        try {
            consumer.subscribe(List.of(Topics.DB_CHANGES.name()));
            log.info("Consuming {} in group {}", Topics.DB_CHANGES.name(), GROUP_ID);
            while (!closing) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL_TIMEOUT);
                if (!records.isEmpty()) {
                    processBatch(records);
                }
            }
        } catch (WakeupException e) {
            if (!closing) {
                fail(e);
                return;
            }
        } catch (RuntimeException e) {
            fail(e);
            return;
        } finally {
            consumer.close();
        }
        log.info("Stopped consuming {}", Topics.DB_CHANGES.name());
        terminated.complete(null);
    }

    private void fail(RuntimeException error) {
        log.error("Change event consumer of group {} stopped: {}", GROUP_ID, error.toString(), error);
        terminated.completeExceptionally(error);
    }

    private void processBatch(ConsumerRecords<byte[], byte[]> records) {
        List<PendingChange> pending = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            process(record).ifPresent(pending::add);
        }
        producer.flush();
        awaitAcknowledgements(pending);
        commit(records);
    }

    private Optional<PendingChange> process(ConsumerRecord<byte[], byte[]> record) {
        List<Invalidation> invalidations;
        DatabaseChange change;
        try {
            String value = record.value() == null ? null : decodeUtf8(record.value(), "value");
            Optional<DatabaseChange> parsed = parser.parse(keyText(record.key()), value);
            if (parsed.isEmpty()) {
                metrics.consumed(InvalidatorMetrics.Outcome.IGNORED);
                return Optional.empty();
            }
            change = parsed.get();
            invalidations = mapper.map(change, clock.millis());
        } catch (IllegalArgumentException e) {
            deadLetters.publish(record, e);
            metrics.deadLetter();
            metrics.consumed(InvalidatorMetrics.Outcome.DEAD_LETTER);
            return Optional.empty();
        }

        if (change.capturedAtMs() >= 0 && !change.operation().equals("r")) {
            metrics.captureLag(change.commitAtMs(), change.capturedAtMs());
        }
        if (invalidations.isEmpty()) {
            warnIfTruncate(change, record);
            metrics.consumed(InvalidatorMetrics.Outcome.IGNORED);
            return Optional.empty();
        }
        metrics.consumed(InvalidatorMetrics.Outcome.INVALIDATED);
        return Optional.of(send(change, invalidations));
    }

    private PendingChange send(DatabaseChange change, List<Invalidation> invalidations) {
        List<Future<RecordMetadata>> invalidationSends = new ArrayList<>(invalidations.size());
        List<Future<RecordMetadata>> purgeSends = new ArrayList<>(invalidations.size());
        long requestedAtMs = clock.millis();
        for (Invalidation invalidation : invalidations) {
            String cacheKey = invalidation.cacheKey();
            invalidationSends.add(producer.send(new ProducerRecord<>(Topics.CACHE_INVALIDATIONS.name(),
                    utf8(cacheKey), Topics.CACHE_INVALIDATIONS.valueSerde().serializer().serialize(
                            Topics.CACHE_INVALIDATIONS.name(), invalidation))));
            // The cache key doubles as the CDN surrogate key; cdn-edge tags cached objects with the same keys.
            var purge = new PurgeRequest(PurgeRequest.SCHEMA_VERSION, cacheKey, false, change.commitAtMs(), requestedAtMs);
            purgeSends.add(producer.send(new ProducerRecord<>(Topics.CDN_PURGES.name(),
                    utf8(cacheKey), Topics.CDN_PURGES.valueSerde().serializer().serialize(Topics.CDN_PURGES.name(), purge))));
        }
        return new PendingChange(change.commitAtMs(), invalidationSends, purgeSends);
    }

    /**
     * Waits for Kafka to acknowledge every send of the batch. The producer retries on its own until
     * {@code delivery.timeout.ms}, so a failure here is permanent and stops the consumer before it commits.
     */
    private void awaitAcknowledgements(List<PendingChange> pending) {
        for (PendingChange change : pending) {
            for (Future<RecordMetadata> send : change.invalidations()) {
                await(send);
                metrics.invalidationPublished();
            }
            for (Future<RecordMetadata> send : change.purges()) {
                await(send);
                metrics.purgePublished();
            }
            metrics.publishLag(change.commitAtMs(), clock.millis());
        }
    }

    private static void await(Future<RecordMetadata> send) {
        try {
            send.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for Kafka to acknowledge invalidations", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Kafka did not acknowledge an invalidation or purge: " + e.getCause(), e.getCause());
        }
    }

    private void commit(ConsumerRecords<byte[], byte[]> records) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition partition : records.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> partitionRecords = records.records(partition);
            long next = partitionRecords.get(partitionRecords.size() - 1).offset() + 1;
            offsets.put(partition, new OffsetAndMetadata(next));
        }
        try {
            consumer.commitSync(offsets);
        } catch (CommitFailedException | RebalanceInProgressException e) {
            // The partitions moved to another instance, which replays from the last commit: duplicates, no loss.
            log.warn("Cannot commit offsets {} of group {} during a rebalance; the new owner replays them: {}",
                    offsets, GROUP_ID, e.toString());
        }
    }

    private void warnIfTruncate(DatabaseChange change, ConsumerRecord<byte[], byte[]> record) {
        if (!change.operation().equals("t")) {
            return;
        }
        truncatesSinceWarning++;
        long now = clock.millis();
        if (now - lastTruncateWarningMs < IGNORED_WARNING_INTERVAL_MS) {
            return;
        }
        log.warn("Truncate of {} at {}-{}@{} maps to no cache key ({} truncates since the last warning); cached rows of "
                        + "that table stay until written again, so flush the caches after a truncate",
                change.qualifiedTable(), record.topic(), record.partition(), record.offset(), truncatesSinceWarning);
        lastTruncateWarningMs = now;
        truncatesSinceWarning = 0;
    }

    /** Decodes a record key; an undecodable key counts as absent because the row images carry the primary key too. */
    private static String keyText(byte[] key) {
        if (key == null) {
            return null;
        }
        try {
            return decodeUtf8(key, "key");
        } catch (MalformedChangeEventException e) {
            return null;
        }
    }

    private static String decodeUtf8(byte[] bytes, String what) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedChangeEventException("record " + what + " is not valid UTF-8", e);
        }
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Stops the loop and waits up to 30 seconds for it to close the consumer. Idempotent. */
    @Override
    public void close() {
        closing = true;
        consumer.wakeup();
        if (Thread.currentThread() == thread || !thread.isAlive()) {
            return;
        }
        try {
            thread.join(Duration.ofSeconds(30).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn("Change event consumer did not stop within 30 s");
        }
    }
}
