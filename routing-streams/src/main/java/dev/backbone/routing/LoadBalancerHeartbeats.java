package dev.backbone.routing;

import dev.backbone.events.Heartbeat;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a LOAD_BALANCER heartbeat for each configured load-balancer address at a fixed interval, so that DNS answers
 * naming these addresses route. Several routing instances may send for the same addresses: any one keeps them alive.
 * Thread-safe; the producer belongs to the caller, who closes it after this.
 */
final class LoadBalancerHeartbeats implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LoadBalancerHeartbeats.class);

    private final Producer<byte[], byte[]> producer;
    private final List<String> addresses;
    private final String pool;
    private final long intervalMs;
    private final Clock clock;
    private final Counter sent;
    private final ScheduledExecutorService scheduler;
    private final AtomicBoolean failing = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private long sequence;

    LoadBalancerHeartbeats(Producer<byte[], byte[]> producer, List<String> addresses, String pool, long intervalMs,
                           Clock clock, MeterRegistry registry) {
        this.producer = producer;
        this.addresses = List.copyOf(addresses);
        this.pool = pool;
        this.intervalMs = intervalMs;
        this.clock = clock;
        this.sent = Counter.builder("backbone.routing.lb.heartbeats")
                .description("Load-balancer heartbeats sent")
                .register(registry);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            var thread = new Thread(runnable, "routing-lb-heartbeats");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Sends the first heartbeats now and then every interval. */
    void start() {
        scheduler.scheduleAtFixedRate(this::sendAll, 0, intervalMs, TimeUnit.MILLISECONDS);
        log.info("Sending load-balancer heartbeats for {} (pool {}) every {} ms", addresses, pool, intervalMs);
    }

    private void sendAll() {
        try {
            long seq = ++sequence;
            for (String address : addresses) {
                var heartbeat = new Heartbeat(Heartbeat.SCHEMA_VERSION, address, Heartbeat.Kind.LOAD_BALANCER, pool,
                        Heartbeat.State.UP, List.of(), 1, seq, clock.millis());
                byte[] value = Topics.LB_HEARTBEATS.valueSerde().serializer().serialize(Topics.LB_HEARTBEATS.name(), heartbeat);
                producer.send(new ProducerRecord<>(Topics.LB_HEARTBEATS.name(), address.getBytes(StandardCharsets.UTF_8), value),
                        (metadata, error) -> onSent(address, error));
            }
        } catch (RuntimeException e) {
            // An exception would cancel the schedule, and silent load balancers would stop all routing.
            log.warn("Cannot send load-balancer heartbeats; retrying in {} ms", intervalMs, e);
        }
    }

    private void onSent(String address, Exception error) {
        if (error == null) {
            sent.increment();
            if (failing.compareAndSet(true, false)) {
                log.info("Load-balancer heartbeats are sent again");
            }
        } else if (failing.compareAndSet(false, true)) {
            // Logged once per run of failures, not once per heartbeat.
            log.warn("Cannot send the heartbeat of load balancer {}: {}; retrying every {} ms", address, error.toString(), intervalMs);
        }
    }

    /** Stops sending. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        scheduler.shutdownNow();
        try {
            if (!scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("Load-balancer heartbeat thread did not stop within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.info("Stopped load-balancer heartbeats for {}", addresses);
    }
}
