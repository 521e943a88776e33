package dev.backbone.launcher;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.backbone.events.Json;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the component registries once per {@link #INTERVAL} on a thread of its own and turns the last readings into
 * the JSON snapshot of {@code GET /api/dashboard}. Rates and ratios come from the counter differences between the two
 * latest readings, so every client polling the page gets the same figures however often it polls. Lag percentiles use
 * {@link #LAG_WINDOW}, because invalidations are too sparse for one-second windows. Thread-safe.
 */
final class DashboardSampler implements AutoCloseable {

    static final Duration INTERVAL = Duration.ofSeconds(1);
    static final Duration LAG_WINDOW = Duration.ofSeconds(10);

    private static final Logger log = LoggerFactory.getLogger(DashboardSampler.class);

    /** The health of one app server: whether it is ready, and its state in the load balancer. */
    record ServerHealth(String id, boolean ready, String loadBalancerState) {
    }

    private final Supplier<? extends Map<String, ? extends MeterRegistry>> registries;
    private final Supplier<List<ServerHealth>> servers;
    private final Clock clock;
    private final ObjectMapper mapper = Json.mapper();
    /** Readings from oldest to newest, enough to span {@link #LAG_WINDOW}. Only the sampling thread uses them. */
    private final Deque<MeterReadings> readings = new ArrayDeque<>();
    private final ScheduledExecutorService scheduler;
    private volatile byte[] snapshot;
    private boolean closed;

    private DashboardSampler(Supplier<? extends Map<String, ? extends MeterRegistry>> registries,
                             Supplier<List<ServerHealth>> servers, Clock clock) {
        this.registries = registries;
        this.servers = servers;
        this.clock = clock;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            var thread = new Thread(runnable, "dashboard-sampler");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Takes a first reading now and starts sampling every {@link #INTERVAL}.
     *
     * @param registries returns the registries by component name at each reading, so that components registered later
     *                   are picked up
     * @param servers    returns the app servers' health at each reading; called on the sampling thread
     */
    static DashboardSampler start(Supplier<? extends Map<String, ? extends MeterRegistry>> registries,
                                  Supplier<List<ServerHealth>> servers, Clock clock) {
        var sampler = new DashboardSampler(registries, servers, clock);
        sampler.sample();
        sampler.scheduler.scheduleAtFixedRate(sampler::sampleSafely, INTERVAL.toMillis(), INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        return sampler;
    }

    /** Returns the latest snapshot as UTF-8 JSON. */
    byte[] snapshot() {
        return snapshot;
    }

    private void sampleSafely() {
        try {
            sample();
        } catch (RuntimeException e) {
            // The next tick tries again, because one failed reading must not stop the page from updating.
            log.warn("Cannot compute the dashboard snapshot: {}", e.toString(), e);
        }
    }

    private void sample() {
        MeterReadings latest = MeterReadings.read(registries.get(), System.nanoTime(), clock.millis());
        readings.addLast(latest);
        long keepNanos = LAG_WINDOW.plus(INTERVAL).toNanos();
        while (readings.size() > 2 && latest.nanoTime() - readings.peekFirst().nanoTime() > keepNanos) {
            readings.removeFirst();
        }
        snapshot = toJson(DashboardSnapshot.of(previousOf(latest), oldestWithin(latest), latest, servers.get(), mapper));
    }

    /** Returns the reading before the latest, or null after the first reading. */
    private MeterReadings previousOf(MeterReadings latest) {
        var iterator = readings.descendingIterator();
        iterator.next();
        return iterator.hasNext() ? iterator.next() : null;
    }

    /** Returns the oldest reading not older than {@link #LAG_WINDOW} before {@code latest}, or null with one reading. */
    private MeterReadings oldestWithin(MeterReadings latest) {
        long windowNanos = LAG_WINDOW.toNanos() + INTERVAL.toNanos() / 2;
        for (MeterReadings reading : readings) {
            if (reading != latest && latest.nanoTime() - reading.nanoTime() <= windowNanos) {
                return reading;
            }
        }
        return null;
    }

    private byte[] toJson(ObjectNode node) {
        try {
            return mapper.writeValueAsBytes(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write the dashboard snapshot as JSON: " + e.getMessage(), e);
        }
    }

    /** Stops sampling. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        scheduler.shutdownNow();
        try {
            if (!scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("The dashboard sampler did not stop within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
