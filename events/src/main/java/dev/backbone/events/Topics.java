package dev.backbone.events;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** Every Backbone topic. Partition counts are defaults for a fresh cluster; existing topics are left as they are. */
public final class Topics {

    private static final Map<String, String> DELETE = Map.of("cleanup.policy", "delete", "retention.ms", "86400000");
    private static final Map<String, String> COMPACT = Map.of("cleanup.policy", "compact");

    public static final Topic<String, ClientRequest> CLIENT_REQUESTS = new Topic<>(
            "backbone.client-requests", Serdes.String(), new JsonSerde<>(ClientRequest.class), 6, DELETE);

    public static final Topic<String, DnsRecord> DNS_RECORDS = new Topic<>(
            "backbone.dns-records", Serdes.String(), new JsonSerde<>(DnsRecord.class), 1, COMPACT);

    public static final Topic<String, Heartbeat> LB_HEARTBEATS = new Topic<>(
            "backbone.lb-heartbeats", Serdes.String(), new JsonSerde<>(Heartbeat.class), 1, COMPACT);

    /** Partitioned finely enough that every app server of a pool can own several partitions. */
    public static final Topic<String, RoutedRequest> ROUTED_REQUESTS = new Topic<>(
            "backbone.routed-requests", Serdes.String(), new JsonSerde<>(RoutedRequest.class), 12, DELETE);

    /** Each front-door instance reads one partition of its own, named in {@link ClientRequest#replyPartition()}. */
    public static final Topic<String, ClientResponse> RESPONSES = new Topic<>(
            "backbone.responses", Serdes.String(), new JsonSerde<>(ClientResponse.class), 6, DELETE);

    /** Debezium change events as JSON text, keyed by {@code schema.table:primary key}. */
    public static final Topic<String, String> DB_CHANGES = new Topic<>(
            "backbone.db-changes", Serdes.String(), Serdes.String(), 3, DELETE);

    public static final Topic<String, Invalidation> CACHE_INVALIDATIONS = new Topic<>(
            "backbone.cache-invalidations", Serdes.String(), new JsonSerde<>(Invalidation.class), 3, DELETE);

    public static final Topic<String, PurgeRequest> CDN_PURGES = new Topic<>(
            "backbone.cdn-purges", Serdes.String(), new JsonSerde<>(PurgeRequest.class), 3, DELETE);

    public static final Topic<byte[], DeadLetter> DEAD_LETTERS = new Topic<>(
            "backbone.dead-letters", Serdes.ByteArray(), new JsonSerde<>(DeadLetter.class), 1, DELETE);

    private Topics() {
    }

    /** Returns every topic, in the order of the request path. */
    public static List<Topic<?, ?>> all() {
        return List.of(CLIENT_REQUESTS, DNS_RECORDS, LB_HEARTBEATS, ROUTED_REQUESTS, RESPONSES,
                DB_CHANGES, CACHE_INVALIDATIONS, CDN_PURGES, DEAD_LETTERS);
    }

    /** Returns the JSON serde of a topic's value, for code that deserializes by hand to catch bad records. */
    @SuppressWarnings("unchecked")
    public static <V> JsonSerde<V> jsonSerde(Topic<?, V> topic) {
        Serde<V> serde = topic.valueSerde();
        if (serde instanceof JsonSerde<?> json) {
            return (JsonSerde<V>) json;
        }
        throw new IllegalArgumentException("topic " + topic.name() + " has no JSON value serde");
    }
}
