package dev.backbone.appserver;

import dev.backbone.events.DeadLetterPublisher;
import dev.backbone.events.Invalidation;
import dev.backbone.events.JsonSerde;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer loop of {@code backbone.cache-invalidations}: applies {@code product:ID}, {@code account:ID} and
 * {@code asset:PATH} keys to the L1 and pinned caches through their version guards and records the lag from database
 * commit to eviction. Keys of other kinds, such as {@code category:ID}, are ignored; a malformed record goes to
 * {@code backbone.dead-letters}. Runs on one thread; {@link #stop()} and the getters may be called from any thread.
 */
final class InvalidationLoop implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(InvalidationLoop.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
    /** Lags above one hour are recorded as one hour. */
    static final long MAX_TRACKED_LAG_MS = TimeUnit.HOURS.toMillis(1);

    private final Consumer<byte[], byte[]> consumer;
    private final DeadLetterPublisher deadLetters;
    private final EntityCaches caches;
    private final Clock clock;
    private final JsonSerde<Invalidation> serde = Topics.jsonSerde(Topics.CACHE_INVALIDATIONS);
    private final Histogram lagMs = new SynchronizedHistogram(MAX_TRACKED_LAG_MS, 3);
    private final Timer lagTimer;
    private volatile boolean ready;
    private volatile boolean running = true;

    InvalidationLoop(Consumer<byte[], byte[]> consumer, DeadLetterPublisher deadLetters, EntityCaches caches,
                     Clock clock, MeterRegistry registry) {
        this.consumer = consumer;
        this.deadLetters = deadLetters;
        this.caches = caches;
        this.clock = clock;
        this.lagTimer = Timer.builder("backbone.cache.eviction.lag")
                .description("time from the database commit to the eviction from this server's cache")
                .publishPercentileHistogram()
                .register(registry);
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(Topics.CACHE_INVALIDATIONS.name()), new PositionResolver());
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL_TIMEOUT)) {
                    apply(record);
                }
            }
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
        } catch (RuntimeException e) {
            log.error("Invalidation consumer stopped after an unexpected error; cached entries are no longer evicted", e);
            throw e;
        } finally {
            ready = false;
            consumer.close(CLOSE_TIMEOUT);
            log.info("Invalidation consumer closed");
        }
    }

    void stop() {
        running = false;
        consumer.wakeup();
    }

    /** Returns whether partitions are assigned and their start offsets known, so no later invalidation is missed. */
    boolean ready() {
        return ready;
    }

    /** Returns a copy of the commit-to-eviction lag histogram, in milliseconds. */
    Histogram lagHistogram() {
        return lagMs.copy();
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        Invalidation invalidation;
        try {
            invalidation = serde.deserialize(record.topic(), record.value());
            if (invalidation == null) {
                throw new IllegalArgumentException("record value is null; accepted: an Invalidation as JSON");
            }
            if (!caches.invalidate(invalidation.cacheKey(), invalidation.version())) {
                return;
            }
        } catch (RuntimeException e) {
            deadLetters.publish(record, e);
            return;
        }

        if (invalidation.commitAtMs() > 0) {
            long lag = Math.max(0, clock.millis() - invalidation.commitAtMs());
            lagMs.recordValue(Math.min(lag, MAX_TRACKED_LAG_MS));
            lagTimer.record(lag, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Looks up the start offset of every assigned partition at once, then reports ready. With
     * {@code auto.offset.reset=latest} the consumer would otherwise look it up at its first fetch, so an invalidation
     * written after {@link #ready()} returned true could still be skipped.
     */
    private final class PositionResolver implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            for (TopicPartition partition : partitions) {
                consumer.position(partition);
            }
            if (!consumer.assignment().isEmpty()) {
                ready = true;
                log.info("Invalidation consumer reads partitions {}", consumer.assignment());
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // Nothing to commit by hand: offsets of this group are committed automatically.
        }
    }
}
