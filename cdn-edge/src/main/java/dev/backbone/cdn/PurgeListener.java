package dev.backbone.cdn;

import dev.backbone.events.DeadLetterPublisher;
import dev.backbone.events.JsonSerde;
import dev.backbone.events.PurgeRequest;
import dev.backbone.events.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes {@code backbone.cdn-purges} in the edge's own consumer group, so that every edge receives every purge, and
 * applies each purge to the cache. A new group starts at the end of the topic: an edge that starts has an empty cache,
 * so older purges have nothing to remove. Unreadable records go to {@code backbone.dead-letters}.
 *
 * <p>Runs on one thread of its own; {@link #close()} and {@link #awaitAssignment(Duration)} may be called from any
 * thread. The dead-letter producer belongs to the caller.
 */
final class PurgeListener implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PurgeListener.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);

    private final String groupId;
    private final Consumer<byte[], byte[]> consumer;
    private final DeadLetterPublisher deadLetters;
    private final Purger purger;
    private final EdgeMetrics metrics;
    private final Clock clock;
    private final JsonSerde<PurgeRequest> serde = Topics.jsonSerde(Topics.CDN_PURGES);
    private final CountDownLatch assigned = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean closing;

    PurgeListener(String groupId, Consumer<byte[], byte[]> consumer, DeadLetterPublisher deadLetters, Purger purger,
            EdgeMetrics metrics, Clock clock) {
        this.groupId = groupId;
        this.consumer = consumer;
        this.deadLetters = deadLetters;
        this.purger = purger;
        this.metrics = metrics;
        this.clock = clock;
        this.thread = new Thread(this::run, groupId + "-purges");
    }

    void start() {
        thread.start();
    }

    /** Waits until partitions are assigned and positioned, so that every purge published from now on is applied. */
    boolean awaitAssignment(Duration timeout) throws InterruptedException {
        return assigned.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void run() {
        try {
            consumer.subscribe(List.of(Topics.CDN_PURGES.name()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    // Offsets are committed automatically; purges are idempotent, so a replay is harmless.
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    // Resolving the positions now fixes where "latest" is, so nothing published after this is skipped.
                    partitions.forEach(consumer::position);
                    assigned.countDown();
                }
            });
            log.info("Consuming {} in group {}", Topics.CDN_PURGES.name(), groupId);
            while (!closing) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL_TIMEOUT)) {
                    apply(record);
                }
            }
        } catch (WakeupException e) {
            if (!closing) {
                log.error("Purge consumer of group {} woken up unexpectedly; purges are no longer applied", groupId, e);
            }
        } catch (RuntimeException e) {
            log.error("Purge consumer of group {} stopped; purges are no longer applied until the edge restarts", groupId, e);
        } finally {
            consumer.close();
        }
        log.info("Stopped consuming {} in group {}", Topics.CDN_PURGES.name(), groupId);
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        PurgeRequest purge;
        try {
            purge = serde.deserialize(record.topic(), record.value());
            if (purge == null) {
                throw new IllegalArgumentException("record value is null; accepted: a PurgeRequest as JSON");
            }
        } catch (RuntimeException e) {
            deadLetters.publish(record, e);
            return;
        }
        purger.purge(purge.surrogateKey(), purge.soft(), Purger.Source.KAFKA);
        if (purge.commitAtMs() > 0) {
            metrics.purgeLag(purge.commitAtMs(), clock.millis());
        }
    }

    /** Stops the loop and waits up to 10 seconds for it to close the consumer. Idempotent. */
    @Override
    public void close() {
        closing = true;
        consumer.wakeup();
        if (Thread.currentThread() == thread || !thread.isAlive()) {
            return;
        }
        try {
            thread.join(Duration.ofSeconds(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
