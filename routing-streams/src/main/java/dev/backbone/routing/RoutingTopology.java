package dev.backbone.routing;

import dev.backbone.events.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The routing topology: DNS resolution and load balancing of {@code backbone.client-requests}.
 *
 * <pre>
 * backbone.dns-records   ─▶ dns-records-update   ─▶ global store dns-records        (every instance has all)
 * backbone.lb-heartbeats ─▶ lb-heartbeats-update ─▶ global store lb-heartbeats, and the in-memory Membership
 * backbone.client-requests ─▶ route-request ─┬▶ backbone.routed-requests
 *                             │               ├▶ backbone.responses (errors)
 *                             │               └▶ backbone.dead-letters
 *                             └─ stores client-dns-cache, client-dns-cache-expiry and routing-trace-batches
 * </pre>
 *
 * The route processor also runs a wall-clock punctuator every {@code heartbeat.check.interval.ms} that marks silent
 * load balancers and app servers DOWN, because stream time stalls while no requests arrive.
 *
 * Every node and store has an explicit name, kept in the constants below. The only internal topics are the changelogs
 * of {@link #CLIENT_DNS_CACHE_STORE}, {@link #CLIENT_DNS_CACHE_EXPIRY_STORE} and {@link #ROUTING_TRACES_STORE}, named
 * {@code <application.id>-<store name>-changelog}.
 */
public final class RoutingTopology {

    public static final String CLIENT_REQUESTS_SOURCE = "client-requests-source";
    public static final String ROUTE_PROCESSOR = "route-request";
    public static final String ROUTED_REQUESTS_SINK = "routed-requests-sink";
    public static final String RESPONSES_SINK = "responses-sink";
    public static final String DEAD_LETTERS_SINK = "dead-letters-sink";

    public static final String DNS_RECORDS_SOURCE = "dns-records-source";
    public static final String DNS_RECORDS_PROCESSOR = "dns-records-update";
    /** Global key-value store of DNS records by {@code scope/canonical name}. */
    public static final String DNS_RECORDS_STORE = "dns-records";

    public static final String HEARTBEATS_SOURCE = "lb-heartbeats-source";
    public static final String HEARTBEATS_PROCESSOR = "lb-heartbeats-update";
    /** Global key-value store of the last heartbeat of each load balancer and app server, by server id. */
    public static final String HEARTBEATS_STORE = "lb-heartbeats";

    /**
     * Persistent key-value store of client DNS caches, keyed by client id, {@code U+001F} and canonical name. Its
     * tasks, like those of the client requests, are partitioned by client id.
     */
    public static final String CLIENT_DNS_CACHE_STORE = "client-dns-cache";
    /** Persistent key-value store indexing the client DNS cache entries by expiry time, for the purge. */
    public static final String CLIENT_DNS_CACHE_EXPIRY_STORE = "client-dns-cache-expiry";

    /**
     * In-memory store of batches of {@link RoutingTrace}, kept for {@code trace.retention.ms}: keys are numbers that rise
     * with each batch of a task, values the traces as {@link StoreSerdes#readTraceBatch} reads them. It is partitioned by
     * client id like the requests, so a query by request id queries every instance. {@link RoutingTraces} explains the
     * batches; it replaced the store {@code routing-traces}, which held one trace per key.
     */
    public static final String ROUTING_TRACES_STORE = "routing-trace-batches";
    /** A store without data whose commit writes the pending routing traces at each task commit ({@link TraceCommitHook}). */
    public static final String TRACE_COMMIT_HOOK = "routing-trace-commit-hook";

    private RoutingTopology() {
    }

    /**
     * Builds the topology with meters in a private registry and dead letters of the global topics only logged. Use
     * {@link #build(RoutingConfig, MeterRegistry, DeadLetterSink)} to run it; {@link RoutingService} does.
     */
    public static Topology build(RoutingConfig config) {
        return build(config, new SimpleMeterRegistry(), DeadLetterSink.logOnly());
    }

    /**
     * Builds the topology.
     *
     * @param registry    where the routing meters are registered
     * @param deadLetters where malformed DNS records and heartbeats go; called on the global stream thread
     */
    public static Topology build(RoutingConfig config, MeterRegistry registry, DeadLetterSink deadLetters) {
        return build(config, registry, deadLetters, new LoadBalancing(config, registry), new LocalTraces());
    }

    /** Builds the topology around load-balancer state and routing traces that the caller also reads, such as the REST API. */
    static Topology build(RoutingConfig config, MeterRegistry registry, DeadLetterSink deadLetters,
                          LoadBalancing loadBalancing, LocalTraces traces) {
        var metrics = new RoutingMetrics(registry);
        var topology = new Topology();
        addGlobalStores(topology, config, metrics, deadLetters, loadBalancing.membership());

        topology.addSource(CLIENT_REQUESTS_SOURCE, Topics.CLIENT_REQUESTS.keySerde().deserializer(),
                Topics.CLIENT_REQUESTS.valueSerde().deserializer(), Topics.CLIENT_REQUESTS.name());
        topology.addProcessor(ROUTE_PROCESSOR, () -> new RouteRequestProcessor(config, loadBalancing, metrics, traces),
                CLIENT_REQUESTS_SOURCE);
        // In-memory stores with changelogs: every entry expires within its TTL, so the stores stay as small as the set of
        // recently active clients, and a RocksDB flush of both stores at every commit would stall the stream thread.
        topology.addStateStore(Stores.keyValueStoreBuilder(
                        Stores.inMemoryKeyValueStore(CLIENT_DNS_CACHE_STORE), Serdes.String(), StoreSerdes.cachedAnswer())
                .withCachingDisabled(), ROUTE_PROCESSOR);
        topology.addStateStore(Stores.keyValueStoreBuilder(
                        Stores.inMemoryKeyValueStore(CLIENT_DNS_CACHE_EXPIRY_STORE), Serdes.String(), Serdes.String())
                .withCachingDisabled(), ROUTE_PROCESSOR);
        topology.addStateStore(Stores.keyValueStoreBuilder(
                        Stores.inMemoryKeyValueStore(ROUTING_TRACES_STORE), Serdes.Long(), Serdes.ByteArray())
                .withCachingDisabled(), ROUTE_PROCESSOR);
        topology.addStateStore(TraceCommitHook.builder(TRACE_COMMIT_HOOK), ROUTE_PROCESSOR);

        topology.addSink(ROUTED_REQUESTS_SINK, Topics.ROUTED_REQUESTS.name(), new StringSerializer(),
                new RoutedOutput.ValueSerializer(), new AnnouncedPartitionPartitioner(), ROUTE_PROCESSOR);
        topology.addSink(RESPONSES_SINK, Topics.RESPONSES.name(), new StringSerializer(),
                new ReplyOutput.ValueSerializer(), new ReplyPartitioner(), ROUTE_PROCESSOR);
        topology.addSink(DEAD_LETTERS_SINK, Topics.DEAD_LETTERS.name(), new ByteArraySerializer(),
                Topics.DEAD_LETTERS.valueSerde().serializer(), ROUTE_PROCESSOR);
        return topology;
    }

    private static void addGlobalStores(Topology topology, RoutingConfig config, RoutingMetrics metrics,
                                        DeadLetterSink deadLetters, Membership membership) {
        // In-memory, because a global store is rebuilt from its compacted topic at every start anyway.
        topology.addGlobalStore(
                Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(DNS_RECORDS_STORE), Serdes.String(),
                        Topics.jsonSerde(Topics.DNS_RECORDS)).withLoggingDisabled(),
                DNS_RECORDS_SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), Topics.DNS_RECORDS.name(),
                DNS_RECORDS_PROCESSOR,
                () -> new DnsRecordsUpdater(DNS_RECORDS_STORE, deadLetters, config.applicationId(), metrics));
        topology.addGlobalStore(
                Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(HEARTBEATS_STORE), Serdes.String(),
                        Topics.jsonSerde(Topics.LB_HEARTBEATS)).withLoggingDisabled(),
                HEARTBEATS_SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), Topics.LB_HEARTBEATS.name(),
                HEARTBEATS_PROCESSOR,
                () -> new HeartbeatsUpdater(HEARTBEATS_STORE, deadLetters, config.applicationId(), metrics, membership));
    }
}
