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
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
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
 * Reads {@code backbone.db-changes}, whether the embedded engine or Kafka Connect filled it, and for every stale key
 * writes a Redis L2 tombstone (when a Redis tier is configured), then an {@link Invalidation} to
 * {@code backbone.cache-invalidations}, then a {@link PurgeRequest} to {@code backbone.cdn-purges}, at most one per
 * surrogate key per window ({@link PurgeCoalescer}). Offsets are committed only after Kafka acknowledged every record
 * derived from them, purges included, so a crash replays changes and never skips one. Unreadable change events go to {@code backbone.dead-letters} and
 * processing continues.
 *
 * <p>Runs on one thread of its own, started by {@link #start()}. The consumer is used only on that thread; the producer
 * and the Redis tombstones belong to the caller, who closes them after {@link #close()}.
 */
final class ChangeEventProcessor implements AutoCloseable {

    /** The consumer group of every cache invalidator instance, so running instances split the topic's partitions. */
    static final String GROUP_ID = "backbone-cache-invalidator";
    /** How many records before the committed offset of each assigned partition are read back to detect replays. */
    static final int REPLAY_WINDOW_RECORDS = 5_000;

    private static final Logger log = LoggerFactory.getLogger(ChangeEventProcessor.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final long TRUNCATE_WARNING_INTERVAL_MS = 60_000;
    private static final int DUPLICATE_MEMORY = 100_000;
    /** How often offsets are committed while the loop runs; they are also committed when it stops or partitions move. */
    private static final long COMMIT_INTERVAL_MS = 100;

    /** One change whose invalidations were sent and await Kafka's acknowledgement. */
    private record PendingChange(DatabaseChange change, StaleKeys keys, TopicPartition partition, long offset,
            List<Future<RecordMetadata>> sends) {
    }

    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final RedisTombstones redis;
    private final Supplier<Consumer<byte[], byte[]>> replayReaders;
    private final DeadLetterPublisher deadLetters;
    private final InvalidatorMetrics metrics;
    private final Clock clock;
    private final ChangeEventParser parser = new ChangeEventParser();
    private final InvalidationMapper mapper = new InvalidationMapper();
    private final PurgeCoalescer purges;
    private final DuplicateDetector duplicates = new DuplicateDetector(DUPLICATE_MEMORY);
    /** The next offset to read of each partition, processed but not yet committed. */
    private final Map<TopicPartition, OffsetAndMetadata> uncommitted = new HashMap<>();
    /** The last offset committed (or sent to be committed) of each partition. */
    private final Map<TopicPartition, Long> committed = new HashMap<>();
    private long lastCommitAtMs;
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private final Thread thread;
    private volatile boolean closing;
    private boolean truncateWarned;
    private long lastTruncateWarningMs;
    private long truncatesSinceWarning;

    /**
     * @param redis         the L2 tombstone writer, or {@code null} without a Redis tier
     * @param replayReaders creates a consumer without a group, used briefly at each partition assignment to read back
     *                      the records before the committed offset, or {@code null} to skip that
     */
    ChangeEventProcessor(Consumer<byte[], byte[]> consumer, Producer<byte[], byte[]> producer, RedisTombstones redis,
            PurgeCoalescer purges, Supplier<Consumer<byte[], byte[]>> replayReaders, InvalidatorMetrics metrics, Clock clock) {
        this.consumer = consumer;
        this.producer = producer;
        this.redis = redis;
        this.purges = purges;
        this.replayReaders = replayReaders;
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
            consumer.subscribe(List.of(Topics.DB_CHANGES.name()), new Rebalances());
            log.info("Consuming {} in group {}", Topics.DB_CHANGES.name(), GROUP_ID);
            while (!closing) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(pollTimeout());
                if (!records.isEmpty()) {
                    processBatch(records);
                }
                flushPurgesIfDue();
            }
            flushPurges();
        } catch (WakeupException e) {
            if (!closing) {
                fail(e);
                return;
            }
            flushPurgesOnStop();
        } catch (RuntimeException e) {
            fail(e);
            return;
        } finally {
            consumer.close();
        }
        log.info("Stopped consuming {}", Topics.DB_CHANGES.name());
        terminated.complete(null);
    }

    private Duration pollTimeout() {
        long untilDue = purges.msUntilDue(clock.millis());
        if (untilDue < 0) {
            return POLL_TIMEOUT;
        }
        return Duration.ofMillis(Math.max(1, Math.min(untilDue, POLL_TIMEOUT.toMillis())));
    }

    private void fail(RuntimeException error) {
        log.error("Change event consumer of group {} stopped: {}", GROUP_ID, error.toString(), error);
        terminated.completeExceptionally(error);
    }

    /** Processes one batch: maps every record, writes tombstones, publishes invalidations and queues purges. */
    void processBatch(ConsumerRecords<byte[], byte[]> records) {
        List<PendingChange> pending = new ArrayList<>();
        List<Invalidation> all = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            Optional<PendingChange> change = process(record);
            if (change.isPresent()) {
                pending.add(change.get());
                all.addAll(change.get().keys().invalidations());
            }
        }
        if (redis != null) {
            redis.write(all);
        }
        for (PendingChange change : pending) {
            sendInvalidations(change);
        }
        producer.flush();
        awaitAcknowledgements(pending);

        long nowMs = clock.millis();
        for (PendingChange change : pending) {
            for (String surrogateKey : change.keys().surrogateKeys()) {
                purges.add(surrogateKey, change.change().commitAtMs(), nowMs, change.partition(), change.offset());
                metrics.purgeRequested();
            }
        }
        for (TopicPartition partition : records.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> partitionRecords = records.records(partition);
            uncommitted.put(partition, new OffsetAndMetadata(partitionRecords.get(partitionRecords.size() - 1).offset() + 1));
        }
    }

    private Optional<PendingChange> process(ConsumerRecord<byte[], byte[]> record) {
        StaleKeys keys;
        DatabaseChange change;
        try {
            String value = record.value() == null ? null : decodeUtf8(record.value(), "value");
            Optional<DatabaseChange> parsed = parser.parse(keyText(record.key()), value);
            if (parsed.isEmpty()) {
                metrics.consumed(InvalidatorMetrics.Outcome.IGNORED);
                return Optional.empty();
            }
            change = parsed.get();
            keys = mapper.map(change, clock.millis());
        } catch (IllegalArgumentException e) {
            deadLetters.publish(record, e);
            metrics.deadLetter();
            metrics.consumed(InvalidatorMetrics.Outcome.DEAD_LETTER);
            return Optional.empty();
        }

        // NOTE: records published but not committed before a crash are replayed after the restart without being
        // counted, because only the records before the committed offset are read back.
        if (duplicates.seenBefore(change)) {
            // Invalidating again is harmless, so a duplicate is processed like any change, only counted.
            metrics.duplicate();
        }
        if (change.capturedAtMs() >= 0 && !change.operation().equals("r")) {
            metrics.captureLag(change.commitAtMs(), change.capturedAtMs());
        }
        if (keys.isEmpty()) {
            warnIfTruncate(change, record);
            metrics.consumed(InvalidatorMetrics.Outcome.IGNORED);
            return Optional.empty();
        }
        metrics.consumed(InvalidatorMetrics.Outcome.INVALIDATED);
        return Optional.of(new PendingChange(change, keys, new TopicPartition(record.topic(), record.partition()),
                record.offset(), new ArrayList<>(keys.invalidations().size())));
    }

    private void sendInvalidations(PendingChange change) {
        for (Invalidation invalidation : change.keys().invalidations()) {
            change.sends().add(producer.send(new ProducerRecord<>(Topics.CACHE_INVALIDATIONS.name(),
                    utf8(invalidation.cacheKey()), Topics.CACHE_INVALIDATIONS.valueSerde().serializer().serialize(
                            Topics.CACHE_INVALIDATIONS.name(), invalidation))));
        }
    }

    /**
     * Waits for Kafka to acknowledge every invalidation of the batch. The producer retries on its own until
     * {@code delivery.timeout.ms}, so a failure here is permanent and stops the consumer before it commits.
     */
    private void awaitAcknowledgements(List<PendingChange> pending) {
        for (PendingChange change : pending) {
            for (Future<RecordMetadata> send : change.sends()) {
                await(send);
                metrics.invalidationPublished();
            }
            metrics.publishLag(change.change().commitAtMs(), clock.millis());
        }
    }

    /** Publishes the purges that are due, then commits the offsets that no waiting purge holds back, when due. */
    void flushPurgesIfDue() {
        long nowMs = clock.millis();
        if (purges.isDue(nowMs)) {
            publish(purges.drain(nowMs));
        }
        if (nowMs - lastCommitAtMs >= COMMIT_INTERVAL_MS) {
            commitUncommitted(false);
        }
    }

    /** Publishes every waiting purge, due or not, waits for Kafka, then commits every processed offset. */
    private void flushPurges() {
        publish(purges.drainAll(clock.millis()));
        commitUncommitted(true);
    }

    /** Publishes purges and waits for Kafka to acknowledge them. */
    private void publish(List<PurgeRequest> requests) {
        if (!requests.isEmpty()) {
            List<Future<RecordMetadata>> sends = new ArrayList<>(requests.size());
            for (PurgeRequest purge : requests) {
                sends.add(producer.send(new ProducerRecord<>(Topics.CDN_PURGES.name(), utf8(purge.surrogateKey()),
                        Topics.CDN_PURGES.valueSerde().serializer().serialize(Topics.CDN_PURGES.name(), purge))));
            }
            producer.flush();
            for (int i = 0; i < requests.size(); i++) {
                await(sends.get(i));
                metrics.purgePublished(requests.get(i), clock.millis());
            }
        }
    }

    /** Publishes waiting purges when the loop is woken up to stop. After a failure, the replay after a restart covers them. */
    private void flushPurgesOnStop() {
        try {
            flushPurges();
        } catch (RuntimeException e) {
            log.warn("Cannot publish the waiting purges while stopping; their changes are replayed after a restart: {}",
                    e.toString());
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

    /**
     * Commits, per partition, the processed offset, or the lowest offset whose purge still waits when that is lower,
     * so that a restart replays every change whose purge was not published. {@code sync} waits for the commit; the
     * loop commits asynchronously, and a failed asynchronous commit only means more replayed duplicates.
     */
    private void commitUncommitted(boolean sync) {
        lastCommitAtMs = clock.millis();
        if (uncommitted.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> entry : uncommitted.entrySet()) {
            long committable = Math.min(entry.getValue().offset(), purges.lowestWaitingOffset(entry.getKey()));
            Long last = committed.get(entry.getKey());
            if (last == null || committable > last) {
                offsets.put(entry.getKey(), new OffsetAndMetadata(committable));
            }
        }
        if (offsets.isEmpty()) {
            return;
        }
        if (sync) {
            try {
                consumer.commitSync(offsets);
            } catch (CommitFailedException | RebalanceInProgressException e) {
                uncommitted.clear();
                committed.clear();
                // The partitions moved to another instance, which replays from the last commit: duplicates, no loss.
                log.warn("Cannot commit offsets {} of group {} during a rebalance, so the new owner replays them: {}",
                        offsets, GROUP_ID, e.toString());
                return;
            }
        } else {
            consumer.commitAsync(offsets, (done, error) -> {
                if (error != null) {
                    log.warn("Cannot commit offsets {} of group {}; a restart replays those changes: {}", offsets,
                            GROUP_ID, error.toString());
                }
            });
        }
        offsets.forEach((partition, offset) -> {
            committed.put(partition, offset.offset());
            if (offset.offset() == uncommitted.get(partition).offset()) {
                uncommitted.remove(partition);
            }
        });
    }

    /** Flushes purges before partitions move away, and reads back recent changes of newly assigned partitions. */
    private final class Rebalances implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            flushPurges();
            committed.keySet().removeAll(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            // Another instance owns them already, so committing would fail: the waiting purges are replayed there.
            uncommitted.keySet().removeAll(partitions);
            committed.keySet().removeAll(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (replayReaders == null || partitions.isEmpty()) {
                return;
            }
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.copyOf(partitions));
            int remembered = new RecentChanges(parser, replayReaders).readBefore(committed, REPLAY_WINDOW_RECORDS,
                    duplicates::remember);
            if (remembered > 0) {
                log.info("Read back {} change events before the committed offsets of {} to count replays", remembered,
                        partitions);
            }
        }
    }

    private void warnIfTruncate(DatabaseChange change, ConsumerRecord<byte[], byte[]> record) {
        if (!change.operation().equals("t")) {
            return;
        }
        truncatesSinceWarning++;
        long now = clock.millis();
        if (truncateWarned && now - lastTruncateWarningMs < TRUNCATE_WARNING_INTERVAL_MS) {
            return;
        }
        log.warn("Truncate of {} at {}-{}@{} maps to no cache key ({} truncates since the last warning), so cached rows "
                        + "of that table stay stale until the caches are flushed",
                change.qualifiedTable(), record.topic(), record.partition(), record.offset(), truncatesSinceWarning);
        truncateWarned = true;
        lastTruncateWarningMs = now;
        truncatesSinceWarning = 0;
    }

    /** Decodes a record key; an undecodable key counts as absent because the row images carry the primary key too. */
    static String keyText(byte[] key) {
        if (key == null) {
            return null;
        }
        try {
            return decodeUtf8(key, "key");
        } catch (MalformedChangeEventException e) {
            return null;
        }
    }

    static String decodeUtf8(byte[] bytes, String part) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedChangeEventException("record " + part + " is not valid UTF-8", e);
        }
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Stops the loop, publishing the purges still waiting for their window, and waits up to 30 seconds. Idempotent. */
    @Override
    public void close() {
        closing = true;
        if (redis != null) {
            redis.stopRetrying();
        }
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
