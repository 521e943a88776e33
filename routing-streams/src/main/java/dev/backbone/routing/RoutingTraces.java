package dev.backbone.routing;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The routing traces of one task: {@link RoutingTrace} by request id, with an index by decision time that the
 * wall-clock purge reads so that it visits only expired traces. The traces have a changelog and the index does not:
 * {@link #rebuildIndex()} recreates it from the traces when the task starts. Used on the stream thread only.
 */
final class RoutingTraces {

    private static final char SEPARATOR = '\u001f';

    private final KeyValueStore<String, RoutingTrace> traces;
    private final KeyValueStore<String, String> timeIndex;
    private final long retentionMs;

    RoutingTraces(KeyValueStore<String, RoutingTrace> traces, KeyValueStore<String, String> timeIndex, long retentionMs) {
        this.traces = traces;
        this.timeIndex = timeIndex;
        this.retentionMs = retentionMs;
    }

    /**
     * Indexes every trace the store holds, such as those restored from the changelog after the task moved to this
     * instance, so that the purge deletes them in time.
     */
    void rebuildIndex() {
        try (KeyValueIterator<String, RoutingTrace> all = traces.all()) {
            while (all.hasNext()) {
                KeyValue<String, RoutingTrace> entry = all.next();
                timeIndex.put(indexKey(entry.value.routedAtMs(), entry.key), entry.key);
            }
        }
    }

    void put(RoutingTrace trace) {
        traces.put(trace.requestId(), trace);
        timeIndex.put(indexKey(trace.routedAtMs(), trace.requestId()), trace.requestId());
    }

    /** Deletes the traces decided more than {@code trace.retention.ms} before {@code nowMs}. */
    void purgeExpired(long nowMs) {
        long cutoffMs = nowMs - retentionMs;
        if (cutoffMs < 0) {
            return;
        }
        // The index keys start with zero-padded times, so the store's byte order is time order.
        String end = indexKey(cutoffMs, "");
        try (KeyValueIterator<String, String> expired = timeIndex.range(null, end)) {
            while (expired.hasNext()) {
                KeyValue<String, String> entry = expired.next();
                RoutingTrace trace = traces.get(entry.value);
                // A request processed again after a rebalance has a newer trace under the same id; keep that one.
                if (trace != null && trace.routedAtMs() <= cutoffMs) {
                    traces.delete(entry.value);
                }
                timeIndex.delete(entry.key);
            }
        }
    }

    /** Returns the index key: the time zero-padded to 19 digits, {@code U+001F} and the request id. */
    static String indexKey(long routedAtMs, String requestId) {
        if (routedAtMs < 0) {
            // Not a wall-clock time; keeps the format's order for the negative values of tests.
            return String.format("%019d", routedAtMs) + SEPARATOR + requestId;
        }
        // Called once per routed request; String.format cost a tenth of the routing thread.
        String digits = Long.toString(routedAtMs);
        var key = new StringBuilder(20 + requestId.length());
        for (int i = digits.length(); i < 19; i++) {
            key.append('0');
        }
        return key.append(digits).append(SEPARATOR).append(requestId).toString();
    }
}
