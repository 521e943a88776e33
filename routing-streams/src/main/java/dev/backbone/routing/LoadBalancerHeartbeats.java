package dev.backbone.routing;

import dev.backbone.events.Heartbeat;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends LOAD_BALANCER heartbeats for the configured load-balancer addresses at a fixed interval, so that DNS answers
 * naming these addresses route.
 *
 * <p>An {@link RoutingConfig.LbRole#ACTIVE active} instance heartbeats every address all the time. A
 * {@link RoutingConfig.LbRole#STANDBY standby} instance heartbeats {@code <address>#standby} to show that it is ready,
 * and watches the address: once no heartbeat for it has arrived for {@code lb.standby.takeover.ms}, it takes the
 * address over and heartbeats it from then on. The takeover time is below the heartbeat timeout, so the address
 * stays UP on every routing instance. A standby that took over does not hand the address back
 * when the active one returns (no preemption): both then keep it alive, which is harmless because any routing
 * instance routes the requests of any address. The standby starts watching only once its Kafka Streams is running,
 * because before that its global store has not replayed the active's heartbeats.
 *
 * <p>Thread-safe; the producer belongs to the caller, who closes it after this.
 */
final class LoadBalancerHeartbeats implements AutoCloseable {

    /** Appended to an address to name the standby of it, such as {@code lb-1#standby}. */
    static final String STANDBY_SUFFIX = "#standby";

    private static final Logger log = LoggerFactory.getLogger(LoadBalancerHeartbeats.class);

    private final Producer<byte[], byte[]> producer;
    private final List<String> addresses;
    private final String pool;
    private final long intervalMs;
    private final RoutingConfig.LbRole role;
    private final long takeoverMs;
    private final Membership membership;
    private final BooleanSupplier ready;
    private final Clock clock;
    private final Counter sent;
    private final Counter takeovers;
    private final ScheduledExecutorService scheduler;
    private final Set<String> takenOver = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean failing = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private long sequence;
    /** Wall-clock time from which a standby measures the silence of an address it never saw a heartbeat for. */
    private long watchingSinceMs = -1;

    /**
     * @param membership read by a standby for the last heartbeat of each address
     * @param ready      whether the global heartbeat store is restored, so that a standby may start watching
     */
    LoadBalancerHeartbeats(Producer<byte[], byte[]> producer, RoutingConfig config, Membership membership,
                           BooleanSupplier ready, Clock clock, MeterRegistry registry) {
        this.producer = producer;
        this.addresses = config.lbAddresses();
        this.pool = config.lbPool();
        this.intervalMs = config.lbHeartbeatIntervalMs();
        this.role = config.lbRole();
        this.takeoverMs = config.lbStandbyTakeoverMs();
        this.membership = membership;
        this.ready = ready;
        this.clock = clock;
        // The sequence starts from the wall clock so that it keeps increasing across restarts.
        this.sequence = clock.millis();
        this.sent = Counter.builder("backbone.routing.lb.heartbeats")
                .description("Load-balancer heartbeats sent")
                .register(registry);
        this.takeovers = Counter.builder("backbone.routing.lb.takeovers")
                .description("Load-balancer addresses a standby took over after the active one stopped heartbeating")
                .register(registry);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            var thread = new Thread(runnable, "routing-lb-heartbeats");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Sends the first heartbeats now and then every interval. */
    void start() {
        scheduler.scheduleAtFixedRate(this::beat, 0, intervalMs, TimeUnit.MILLISECONDS);
        log.info("Sending load-balancer heartbeats as {} for {} (pool {}) every {} ms", role, addresses, pool, intervalMs);
    }

    /** Returns the addresses this instance heartbeats now: all for an active one, those taken over for a standby. */
    Set<String> servedAddresses() {
        return role == RoutingConfig.LbRole.ACTIVE ? Set.copyOf(addresses) : Set.copyOf(takenOver);
    }

    private void beat() {
        try {
            long seq = ++sequence;
            long nowMs = clock.millis();
            if (role == RoutingConfig.LbRole.STANDBY) {
                watch(nowMs);
            }
            for (String address : addresses) {
                if (role == RoutingConfig.LbRole.ACTIVE || takenOver.contains(address)) {
                    send(address, seq, nowMs);
                } else {
                    send(address + STANDBY_SUFFIX, seq, nowMs);
                }
            }
        } catch (RuntimeException e) {
            // An exception would cancel the schedule, and silent load balancers would stop all routing.
            log.warn("Cannot send load-balancer heartbeats; retrying in {} ms", intervalMs, e);
        }
    }

    /** Takes over every address whose heartbeats have stopped for the takeover time. */
    private void watch(long nowMs) {
        if (!ready.getAsBoolean()) {
            return;
        }
        if (watchingSinceMs < 0) {
            watchingSinceMs = nowMs;
        }
        membership.expire(nowMs);
        for (String address : addresses) {
            if (takenOver.contains(address)) {
                continue;
            }
            Membership.Member member = membership.member(address);
            long lastMs = member == null || member.lastReceivedAtMs() < 0
                    ? watchingSinceMs : Math.max(member.lastReceivedAtMs(), watchingSinceMs);
            long silentMs = nowMs - lastMs;
            if (silentMs >= takeoverMs) {
                takenOver.add(address);
                takeovers.increment();
                log.info("Standby took over load-balancer address {} (pool {}): no heartbeat for it in {} ms",
                        address, pool, silentMs);
            }
        }
    }

    private void send(String serverId, long seq, long nowMs) {
        var heartbeat = new Heartbeat(Heartbeat.SCHEMA_VERSION, serverId, Heartbeat.Kind.LOAD_BALANCER, pool,
                Heartbeat.State.UP, List.of(), 1, seq, nowMs);
        byte[] value = Topics.LB_HEARTBEATS.valueSerde().serializer().serialize(Topics.LB_HEARTBEATS.name(), heartbeat);
        producer.send(new ProducerRecord<>(Topics.LB_HEARTBEATS.name(), serverId.getBytes(StandardCharsets.UTF_8), value),
                (metadata, error) -> onSent(serverId, error));
    }

    private void onSent(String serverId, Exception error) {
        if (error == null) {
            sent.increment();
            if (failing.compareAndSet(true, false)) {
                log.info("Load-balancer heartbeats are sent again");
            }
        } else if (failing.compareAndSet(false, true)) {
            // Logged once per run of failures, not once per heartbeat.
            log.warn("Cannot send the heartbeat of load balancer {}: {}; retrying every {} ms", serverId, error.toString(),
                    intervalMs);
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
