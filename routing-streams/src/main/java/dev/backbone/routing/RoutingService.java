package dev.backbone.routing;

import dev.backbone.events.DnsRecord;
import dev.backbone.events.KafkaClientMeters;
import dev.backbone.events.TopicAdmin;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running routing instance: the Kafka Streams application of {@link RoutingTopology}, the REST API over its stores
 * (see {@link RoutingApiHandler} for the routes), the load-balancer heartbeats, and the producer that they, the admin
 * API and the global-store dead letters share. Start with {@link #start}; {@link #close()} stops everything it
 * started. Thread-safe.
 */
public final class RoutingService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RoutingService.class);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final RoutingConfig config;
    private final Producer<byte[], byte[]> producer;
    private final KafkaStreams streams;
    private final RestServer rest;
    private final String applicationServer;
    private final LoadBalancerHeartbeats heartbeats;
    private final KafkaStreamsMetrics streamsMeters;
    private final KafkaClientMeters producerMeters;
    private final AtomicBoolean closed = new AtomicBoolean();

    private RoutingService(RoutingConfig config, Producer<byte[], byte[]> producer, KafkaStreams streams,
                           RestServer rest, String applicationServer, LoadBalancerHeartbeats heartbeats,
                           KafkaStreamsMetrics streamsMeters, KafkaClientMeters producerMeters) {
        this.config = config;
        this.streamsMeters = streamsMeters;
        this.producerMeters = producerMeters;
        this.producer = producer;
        this.streams = streams;
        this.rest = rest;
        this.applicationServer = applicationServer;
        this.heartbeats = heartbeats;
    }

    static Map<String, Object> adminConfig(RoutingConfig config) {
        return config.kafkaClient().applyTo(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers()));
    }

    /** Returns the configuration of the producer of DNS admin writes, heartbeats and dead letters. */
    static Map<String, Object> sideProducerConfig(RoutingConfig config) {
        return config.kafkaClient().applyTo(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
                ProducerConfig.CLIENT_ID_CONFIG, config.applicationId() + "-side-producer",
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 5));
    }

    /**
     * Creates missing topics when {@code topics.create} is set, binds the REST API, then starts Kafka Streams and the
     * load-balancer heartbeats. Returns without waiting for Kafka Streams to reach RUNNING (see
     * {@link #awaitRunning(Duration)}); until then the REST API responds to queries with 503.
     *
     * @throws IllegalStateException when topics cannot be listed or created, or the REST port cannot be bound
     */
    public static RoutingService start(RoutingConfig config, MeterRegistry registry) {
        if (config.createTopics()) {
            try (Admin admin = Admin.create(adminConfig(config))) {
                TopicAdmin.ensureTopics(admin, List.of(Topics.CLIENT_REQUESTS, Topics.DNS_RECORDS, Topics.LB_HEARTBEATS,
                        Topics.ROUTED_REQUESTS, Topics.RESPONSES, Topics.DEAD_LETTERS), config.topicReplicationFactor());
            }
        }
        Producer<byte[], byte[]> producer = new KafkaProducer<>(sideProducerConfig(config), new ByteArraySerializer(),
                new ByteArraySerializer());
        DeadLetterSink deadLetters = (key, letter, headers) -> producer.send(DeadLetters.toRecord(key, letter, headers),
                (metadata, error) -> {
                    if (error != null) {
                        log.error("Cannot write the dead letter of {}-{}@{}: {}", letter.topic(), letter.partition(),
                                letter.offset(), error.toString());
                    }
                });

        Clock clock = Clock.systemUTC();
        RestServer rest;
        try {
            rest = RestServer.bind(config.restHost(), config.restPort());
        } catch (RuntimeException e) {
            producer.close(Duration.ZERO);
            throw e;
        }
        // Known only now when rest.port is 0; other instances forward keyed queries to it.
        String applicationServer = config.applicationServerOr(rest.port());
        Properties streamsProperties = config.streamsProperties();
        streamsProperties.put(StreamsConfig.APPLICATION_SERVER_CONFIG, applicationServer);

        KafkaStreams streams = null;
        var loadBalancing = new LoadBalancing(config, registry);
        var localTraces = new LocalTraces();
        try {
            streams = new KafkaStreams(RoutingTopology.build(config, registry, deadLetters, loadBalancing, localTraces),
                    streamsProperties);
            var admin = new DnsAdminApi(producer, dnsRecordsOf(streams), clock, applicationServer);
            var queries = new DnsQueryApi(streams, applicationServer, config.dnsNegativeTtlMs(), clock);
            var peers = new InstancePeers(streams, applicationServer);
            var loadBalancerQueries = new LoadBalancerQueryApi(loadBalancing, clock, applicationServer, peers);
            var traceQueries = new TraceQueryApi(streams, localTraces, peers, config.traceRetentionMs() > 0);
            rest.start(new RoutingApiHandler(admin, queries, loadBalancerQueries, traceQueries, registry,
                    config.adminToken(), applicationServer));
        } catch (RuntimeException e) {
            rest.close();
            if (streams != null) {
                streams.close(Duration.ZERO);
            }
            producer.close(Duration.ZERO);
            throw e;
        }
        // Set once Kafka Streams first reaches RUNNING: its global stores are restored by then, and stay updated by
        // the global thread through later rebalances, such as the one that follows the active instance leaving.
        var restored = new AtomicBoolean();
        var heartbeats = new LoadBalancerHeartbeats(producer, config, loadBalancing.membership(), restored::get, clock,
                registry);
        // Kafka Streams meters are tagged by client, thread, task, processor node and store, which the topology and the
        // partition count bound. A replaced stream thread gets a new thread id, and the binder drops the meters of the
        // old one at its next refresh.
        var streamsMeters = new KafkaStreamsMetrics(streams);
        streamsMeters.bindTo(registry);
        var producerMeters = new KafkaClientMeters(registry, config.applicationId());
        producerMeters.bind(producer);
        var service = new RoutingService(config, producer, streams, rest, applicationServer, heartbeats, streamsMeters,
                producerMeters);
        streams.setStateListener((newState, oldState) -> {
            if (newState == KafkaStreams.State.RUNNING) {
                restored.set(true);
            }
            service.onStateChange(newState, oldState);
        });
        streams.setUncaughtExceptionHandler(error -> {
            log.error("Stream thread of {} failed; replacing it", config.applicationId(), error);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.start();
        if (config.lbHeartbeatIntervalMs() > 0) {
            heartbeats.start();
        }
        log.info("Started routing-streams {} against {} (state directory {}, REST API {}, application.server {}, "
                        + "admin endpoints {})", config.applicationId(), config.bootstrapServers(), config.stateDir(),
                rest.uri(), applicationServer, config.adminToken() == null ? "disabled" : "enabled");
        return service;
    }

    private static Supplier<ReadOnlyKeyValueStore<String, DnsRecord>> dnsRecordsOf(KafkaStreams streams) {
        return () -> DnsQueryApi.dnsRecords(streams);
    }

    private synchronized void onStateChange(KafkaStreams.State newState, KafkaStreams.State oldState) {
        log.info("Routing streams {} changed state from {} to {}", config.applicationId(), oldState, newState);
        notifyAll();
    }

    /**
     * Waits until Kafka Streams is RUNNING: global stores restored and tasks assigned.
     *
     * @return true when running, false when the timeout passed or Kafka Streams is shutting down or failed
     */
    public synchronized boolean awaitRunning(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (streams.state() != KafkaStreams.State.RUNNING) {
            if (!streams.state().isRunningOrRebalancing() && streams.state() != KafkaStreams.State.CREATED) {
                return false;
            }
            long remainingMs = (deadline - System.nanoTime()) / 1_000_000;
            if (remainingMs <= 0) {
                return false;
            }
            try {
                wait(remainingMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** Returns the Kafka Streams instance, for interactive queries of the stores named in {@link RoutingTopology}. */
    public KafkaStreams streams() {
        return streams;
    }

    public RoutingConfig config() {
        return config;
    }

    /**
     * Returns the load-balancer addresses this instance heartbeats now: every configured one when {@code lb.role} is
     * active, and those it took over when it is a standby.
     */
    public Set<String> heartbeatedAddresses() {
        return heartbeats.servedAddresses();
    }

    /**
     * Returns the base URI of the REST API, such as {@code http://127.0.0.1:8081/}, with the bound port when
     * {@code rest.port} was 0.
     */
    public URI restUri() {
        return rest.uri();
    }

    /** Returns the {@code host:port} other instances use to reach this one, as given to Kafka Streams. */
    public String applicationServer() {
        return applicationServer;
    }

    /**
     * Stops the REST API, the heartbeats and the Kafka meters, then Kafka Streams (waiting up to 30 s), then the
     * producer. Kafka Streams leaves its consumer group, so that its partitions move to the other instances at once
     * rather than after the session timeout. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        rest.close();
        heartbeats.close();
        streamsMeters.close();
        producerMeters.close();
        if (!streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(CLOSE_TIMEOUT))) {
            log.warn("Routing streams {} did not stop within {} s", config.applicationId(), CLOSE_TIMEOUT.toSeconds());
        }
        producer.close(Duration.ofSeconds(5));
        log.info("Stopped routing-streams {}", config.applicationId());
    }
}
