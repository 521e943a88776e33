package dev.backbone.appserver;

import dev.backbone.events.Heartbeat;
import dev.backbone.events.Topics;
import dev.backbone.storage.RateLimitedWarning;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends this app server's heartbeats to {@code backbone.lb-heartbeats}, keyed by server id: one per interval, one
 * whenever {@link #beatNow()} is called, and a last one announcing DRAINING on {@link #close()}. Thread-safe.
 */
final class Heartbeater implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Heartbeater.class);
    private static final Duration LAST_HEARTBEAT_TIMEOUT = Duration.ofSeconds(5);

    private final Producer<byte[], byte[]> producer;
    private final String serverId;
    private final String pool;
    private final Duration interval;
    private final Supplier<List<Integer>> partitions;
    private final Clock clock;
    private final ScheduledExecutorService scheduler;
    private final AtomicLong sequence;
    private final RateLimitedWarning sendWarning;
    private boolean closed;

    Heartbeater(Producer<byte[], byte[]> producer, String serverId, String pool, Duration interval,
                Supplier<List<Integer>> partitions, Clock clock) {
        this.producer = producer;
        this.serverId = serverId;
        this.pool = pool;
        this.interval = interval;
        this.partitions = partitions;
        this.clock = clock;
        // Starting from the wall clock keeps sequences increasing across restarts: at most one heartbeat goes out
        // per millisecond, so a run never catches up with the start value of the next run.
        this.sequence = new AtomicLong(clock.millis());
        this.scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            var thread = new Thread(runnable, "app-server-heartbeat-" + serverId);
            thread.setDaemon(true);
            return thread;
        });
        this.sendWarning = new RateLimitedWarning(log, clock, 10_000);
    }

    void start() {
        scheduler.scheduleAtFixedRate(() -> send(Heartbeat.State.UP), 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Sends a heartbeat soon, on the heartbeat thread, such as after the assigned partitions changed. */
    void beatNow() {
        try {
            scheduler.execute(() -> send(Heartbeat.State.UP));
        } catch (RejectedExecutionException e) {
            log.debug("Heartbeat after a partition change skipped: the heartbeat thread is stopped");
        }
    }

    /** Returns the sequence number of the last heartbeat sent. */
    long lastSequence() {
        return sequence.get();
    }

    /** Stops the periodic heartbeats and sends a DRAINING heartbeat, waiting up to 5 s for it. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        scheduler.shutdownNow();
        try {
            if (!scheduler.awaitTermination(LAST_HEARTBEAT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("Heartbeat thread of {} did not stop within {}", serverId, LAST_HEARTBEAT_TIMEOUT);
            }
            send(Heartbeat.State.DRAINING).get(LAST_HEARTBEAT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("Cannot send the DRAINING heartbeat of {}: {}", serverId, e.toString());
        }
    }

    private java.util.concurrent.Future<?> send(Heartbeat.State state) {
        var heartbeat = new Heartbeat(Heartbeat.SCHEMA_VERSION, serverId, Heartbeat.Kind.APP_SERVER, pool, state,
                partitions.get(), 1, sequence.incrementAndGet(), clock.millis());
        byte[] key = Topics.LB_HEARTBEATS.keySerde().serializer().serialize(Topics.LB_HEARTBEATS.name(), serverId);
        byte[] value = Topics.LB_HEARTBEATS.valueSerde().serializer().serialize(Topics.LB_HEARTBEATS.name(), heartbeat);
        try {
            return producer.send(new ProducerRecord<>(Topics.LB_HEARTBEATS.name(), key, value), (metadata, error) -> {
                if (error != null) {
                    sendWarning.warn("Cannot send heartbeat {} of {}: {}", heartbeat.sequence(), serverId, error.toString());
                }
            });
        } catch (RuntimeException e) {
            // Thrown on the scheduler thread, it would cancel every later heartbeat.
            sendWarning.warn("Cannot send heartbeat {} of {}: {}", heartbeat.sequence(), serverId, e.toString());
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        }
    }
}
