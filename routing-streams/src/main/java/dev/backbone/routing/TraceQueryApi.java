package dev.backbone.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The trace query of the REST API: how the route processor handled a request, by request id. The trace store is
 * partitioned by client id, which the query does not name, so an instance reads its own partitions and then queries
 * every other instance until one has the trace. Thread-safe.
 */
final class TraceQueryApi {

    private final KafkaStreams streams;
    private final LocalTraces localTraces;
    private final InstancePeers peers;
    private final boolean tracesStored;

    /**
     * @param localTraces  the traces of this instance's tasks, which the route processors register
     * @param tracesStored false when this instance's {@code trace.retention.ms} is 0, so that it stores no traces
     */
    TraceQueryApi(KafkaStreams streams, LocalTraces localTraces, InstancePeers peers, boolean tracesStored) {
        this.streams = streams;
        this.localTraces = localTraces;
        this.peers = peers;
        this.tracesStored = tracesStored;
    }

    /**
     * Returns the trace of {@code requestId}.
     *
     * @param local "true" to read this instance's partitions only, as a fanned-out query requests; null or "false"
     *              to query every instance
     * @throws ApiException 404 naming the id when no instance has the trace, 503 while partitions move between
     *                      instances, because a trace in a moving partition would be reported missing
     */
    ApiReply trace(String requestId, String local) {
        if (requestId == null || requestId.isBlank()) {
            throw ApiException.invalidField(new InvalidFieldException("requestId", requestId, "is missing",
                    "the request id, as the front door returns it in X-Request-Id"));
        }
        boolean localOnly = InstancePeers.parseLocal(local);
        String tracesOff = "routing traces are off on " + peers.selfName() + " (trace.retention.ms=0); set "
                + "trace.retention.ms to 1000 or more to store them";
        if (!tracesStored && localOnly) {
            throw ApiException.notFound("no routing trace of request '" + requestId + "': " + tracesOff,
                    Map.of("requestId", requestId));
        }
        if (streams.state() != KafkaStreams.State.RUNNING) {
            throw ApiException.unavailable("routing streams on " + peers.selfName() + " are " + streams.state()
                    + ", so the routing traces may be moving between instances; retry shortly");
        }
        RoutingTrace trace = tracesStored ? localTrace(requestId) : null;
        if (trace != null) {
            var answer = new LinkedHashMap<String, Object>();
            answer.put("trace", trace);
            answer.put("answeredBy", peers.selfName());
            return ApiReply.json(answer);
        }

        List<String> queried = new ArrayList<>();
        queried.add(peers.selfName());
        if (!localOnly) {
            String path = RoutingApiHandler.TRACES_PATH + "/" + URLEncoder.encode(requestId, StandardCharsets.UTF_8)
                    .replace("+", "%20") + "?" + InstancePeers.LOCAL_PARAMETER + "=true";
            for (String instance : peers.others()) {
                JsonNode found = peers.get(instance, path);
                if (found instanceof ObjectNode answer) {
                    answer.put("forwardedBy", peers.selfName());
                    return ApiReply.json(answer);
                }
                queried.add(instance);
            }
        }
        throw ApiException.notFound("no routing trace of request '" + requestId + "' on " + String.join(", ", queried)
                + "; traces are kept for trace.retention.ms after routing" + (tracesStored ? "" : "; " + tracesOff),
                Map.of("requestId", requestId, "instancesQueried", queried));
    }

    /** Returns the trace of {@code requestId} from this instance's partitions, or null. */
    private RoutingTrace localTrace(String requestId) {
        try {
            return localTraces.find(requestId, this::batchStore);
        } catch (InvalidStateStoreException e) {
            throw ApiException.unavailable("the routing traces are not available on " + peers.selfName() + " ("
                    + e.getMessage() + "); retry shortly");
        }
    }

    private ReadOnlyKeyValueStore<Long, byte[]> batchStore(int partition) {
        return streams.store(StoreQueryParameters.fromNameAndType(RoutingTopology.ROUTING_TRACES_STORE,
                QueryableStoreTypes.<Long, byte[]>keyValueStore()).withPartition(partition));
    }
}
