package dev.backbone.routing;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The routing traces of one task. Traces are written to the store in batches, one changelog record per batch rather
 * than per request: a record per request cost the routing layer about a sixth of its throughput. A batch is written
 * when it reaches {@link #BATCH_BYTES} and whenever Kafka Streams commits the task ({@link TraceCommitHook}), so every
 * trace is in the changelog before the offset of its request is committed.
 *
 * <p>Until its batch is written, a trace is kept as an object; after that, an index in memory maps its request id to
 * the batch key. {@link #rebuildIndex()} recreates the index from the store when the task starts, such as after a
 * restore from the changelog. Batch keys rise by one from the highest key in the store.
 *
 * <p>{@link #put}, {@link #flush}, {@link #purgeExpired} and {@link #rebuildIndex} run on the stream thread;
 * {@link #find} and {@link #indexed} are safe to call from any thread.
 */
final class RoutingTraces {

    /** A batch is written once its encoded traces reach this size, far below Kafka's default 1 MB record limit. */
    static final int BATCH_BYTES = 64 * 1024;

    private final KeyValueStore<Long, byte[]> batches;
    private final long retentionMs;
    /** Traces not yet in a batch, by request id. */
    private final ConcurrentHashMap<String, RoutingTrace> pending = new ConcurrentHashMap<>();
    /** The batch key of each written trace, by request id. */
    private final ConcurrentHashMap<String, Long> written = new ConcurrentHashMap<>();
    private StoreSerdes.Output pendingBytes = StoreSerdes.newTraceBatch();
    private long pendingNewestMs = Long.MIN_VALUE;
    /**
     * The written batches in the order they were written, with the routing time of their newest trace. Routing times
     * come from the wall clock, so they rise along the queue unless the clock steps back; the purge then sorts the
     * queue again (see {@link #purgeExpired(long)}).
     */
    private final ArrayDeque<Batch> byTime = new ArrayDeque<>();
    private long nextKey;

    private record Batch(long key, long newestRoutedAtMs) {
    }

    RoutingTraces(KeyValueStore<Long, byte[]> batches, long retentionMs) {
        this.batches = batches;
        this.retentionMs = retentionMs;
    }

    /**
     * Indexes every trace in the store, such as those restored from the changelog after the task moved to this
     * instance, so that queries find them and the purge deletes them in time.
     */
    void rebuildIndex() {
        List<Batch> all = new ArrayList<>();
        written.clear();
        long highestKey = -1;
        // Keys are written as big-endian longs, so the store returns them in the order the batches were written, and a
        // trace of a request routed again overrides the one of an earlier batch.
        try (KeyValueIterator<Long, byte[]> entries = batches.all()) {
            while (entries.hasNext()) {
                KeyValue<Long, byte[]> entry = entries.next();
                long newest = Long.MIN_VALUE;
                for (RoutingTrace trace : StoreSerdes.readTraceBatch(describe(entry.key), entry.value)) {
                    written.put(trace.requestId(), entry.key);
                    newest = Math.max(newest, trace.routedAtMs());
                }
                all.add(new Batch(entry.key, newest));
                highestKey = Math.max(highestKey, entry.key);
            }
        }
        all.sort(Comparator.comparingLong(Batch::newestRoutedAtMs));
        byTime.clear();
        byTime.addAll(all);
        nextKey = highestKey + 1;
    }

    /**
     * Adds a trace; it can be found at once.
     *
     * @throws org.apache.kafka.common.errors.SerializationException when a string of the trace is longer than 65,535
     *                                                               bytes; the trace is then not kept
     */
    void put(RoutingTrace trace) {
        StoreSerdes.appendTrace(pendingBytes, trace);
        pending.put(trace.requestId(), trace);
        pendingNewestMs = Math.max(pendingNewestMs, trace.routedAtMs());
        if (pendingBytes.length() >= BATCH_BYTES) {
            flush();
        }
    }

    /** Writes the pending traces to the store as one batch, if there are any. */
    void flush() {
        if (pending.isEmpty()) {
            return;
        }
        long key = nextKey++;
        batches.put(key, pendingBytes.toByteArray());
        // Indexed as written before it leaves the pending map, so that a query on another thread finds it in one of them.
        for (String requestId : pending.keySet()) {
            written.put(requestId, key);
        }
        pending.clear();
        byTime.addLast(new Batch(key, pendingNewestMs));
        pendingBytes = StoreSerdes.newTraceBatch();
        pendingNewestMs = Long.MIN_VALUE;
    }

    /**
     * Deletes the batches whose newest trace was decided more than {@code trace.retention.ms} before {@code nowMs}.
     * Pending traces stay until they are written.
     */
    void purgeExpired(long nowMs) {
        long cutoffMs = nowMs - retentionMs;
        if (!byTime.isEmpty() && byTime.peekFirst().newestRoutedAtMs() > nowMs) {
            // The clock stepped back since the first batch was written, so later batches may be older and queued behind it.
            List<Batch> all = new ArrayList<>(byTime);
            all.sort(Comparator.comparingLong(Batch::newestRoutedAtMs));
            byTime.clear();
            byTime.addAll(all);
        }
        while (!byTime.isEmpty() && byTime.peekFirst().newestRoutedAtMs() <= cutoffMs) {
            long key = byTime.pollFirst().key();
            byte[] data = batches.get(key);
            if (data != null) {
                for (RoutingTrace trace : StoreSerdes.readTraceBatch(describe(key), data)) {
                    // A request routed again after a rebalance has a newer trace in a later batch; keep that one.
                    written.remove(trace.requestId(), key);
                }
                batches.delete(key);
            }
        }
    }

    /**
     * Returns the trace of {@code requestId}, or null when this task has none.
     *
     * @param store returns the batch store of this task, as an interactive query returns it; called only when the
     *              trace is in a written batch
     */
    RoutingTrace find(String requestId, Supplier<ReadOnlyKeyValueStore<Long, byte[]>> store) {
        RoutingTrace trace = pending.get(requestId);
        if (trace != null) {
            return trace;
        }
        Long key = written.get(requestId);
        byte[] data = key == null ? null : store.get().get(key);
        if (data == null) {
            return null;
        }
        RoutingTrace found = null;
        for (RoutingTrace candidate : StoreSerdes.readTraceBatch(describe(key), data)) {
            if (candidate.requestId().equals(requestId)) {
                found = candidate;
            }
        }
        return found;
    }

    /** Returns how many request ids the index holds, written or pending; safe to call from any thread. */
    long indexed() {
        return written.mappingCount() + pending.mappingCount();
    }

    private static String describe(long key) {
        return RoutingTopology.ROUTING_TRACES_STORE + " key " + key;
    }
}
