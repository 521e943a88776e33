package dev.backbone.routing;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The routing traces of one task: {@link RoutingTrace} by request id in a store with a changelog, and an index in
 * routing order that the wall-clock purge reads, so that it visits only expired traces. The index is a queue in memory,
 * not a store: a second store cost a key to build and encode, a skip-list insert and a delete per request.
 * {@link #rebuildIndex()} recreates it from the traces when the task starts. Used on the stream thread only, except
 * {@link #indexed()}.
 */
final class RoutingTraces {

    private final KeyValueStore<String, RoutingTrace> traces;
    private final long retentionMs;
    /**
     * Request ids in the order they were routed. Routing times come from the wall clock, so they rise along the queue
     * unless the clock steps back. The purge then sorts the queue again (see {@link #purgeExpired(long)}).
     */
    private final ArrayDeque<Indexed> byTime = new ArrayDeque<>();
    /** The queue's length, for the gauge that other threads read. */
    private final AtomicLong indexedCount = new AtomicLong();

    private record Indexed(long routedAtMs, String requestId) {
    }

    RoutingTraces(KeyValueStore<String, RoutingTrace> traces, long retentionMs) {
        this.traces = traces;
        this.retentionMs = retentionMs;
    }

    /**
     * Indexes every trace the store holds, such as those restored from the changelog after the task moved to this
     * instance, so that the purge deletes them in time.
     */
    void rebuildIndex() {
        List<Indexed> all = new ArrayList<>();
        try (KeyValueIterator<String, RoutingTrace> entries = traces.all()) {
            while (entries.hasNext()) {
                KeyValue<String, RoutingTrace> entry = entries.next();
                all.add(new Indexed(entry.value.routedAtMs(), entry.key));
            }
        }
        all.sort(Comparator.comparingLong(Indexed::routedAtMs));
        byTime.clear();
        byTime.addAll(all);
        indexedCount.lazySet(byTime.size());
    }

    void put(RoutingTrace trace) {
        traces.put(trace.requestId(), trace);
        byTime.addLast(new Indexed(trace.routedAtMs(), trace.requestId()));
        indexedCount.lazySet(byTime.size());
    }

    /** Deletes the traces decided more than {@code trace.retention.ms} before {@code nowMs}. */
    void purgeExpired(long nowMs) {
        long cutoffMs = nowMs - retentionMs;
        if (!byTime.isEmpty() && byTime.peekFirst().routedAtMs() > nowMs) {
            // The clock stepped back since the first trace was routed, so later traces may be older and queued behind it.
            List<Indexed> all = new ArrayList<>(byTime);
            all.sort(Comparator.comparingLong(Indexed::routedAtMs));
            byTime.clear();
            byTime.addAll(all);
        }
        while (!byTime.isEmpty() && byTime.peekFirst().routedAtMs() <= cutoffMs) {
            Indexed oldest = byTime.pollFirst();
            RoutingTrace trace = traces.get(oldest.requestId());
            // A request processed again after a rebalance has a newer trace under the same id; keep that one.
            if (trace != null && trace.routedAtMs() <= cutoffMs) {
                traces.delete(oldest.requestId());
            }
        }
        indexedCount.lazySet(byTime.size());
    }

    /** Returns how many traces the index holds; safe to call from any thread. */
    long indexed() {
        return indexedCount.get();
    }
}
