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
 * <p>An index in memory maps each request id to its batch. A query reads a written batch from the store, and the
 * pending one from its bytes in memory. {@link #rebuildIndex()} recreates the index from the store when the task
 * starts, such as after a restore from the changelog. Batch keys rise by one from the highest key in the store.
 *
 * <p>{@link #put}, {@link #flush}, {@link #purgeExpired} and {@link #rebuildIndex} run on the stream thread;
 * {@link #find} and {@link #indexed} are safe to call from any thread.
 */
final class RoutingTraces {

    /** A batch is written once its encoded traces reach this size, far below Kafka's default 1 MB record limit. */
    static final int BATCH_BYTES = 64 * 1024;

    private final KeyValueStore<Long, byte[]> batches;
    private final long retentionMs;
    /** The batch of each request id, written or pending. */
    private final ConcurrentHashMap<String, Batch> index = new ConcurrentHashMap<>();
    /** The batch that collects the traces routed since the last write. */
    private Batch pending = new Batch(-1, Long.MIN_VALUE);
    /**
     * The encoded traces of the pending batch, reused from batch to batch. Its lock guards the appends, the keys of the
     * batches, and the reads of other threads; the stream thread reads it without the lock, since it alone writes.
     */
    private final StoreSerdes.Output pendingBytes = StoreSerdes.newTraceBatch(BATCH_BYTES + 4096);
    /**
     * The written batches in the order they were written. Routing times come from the wall clock, so the newest trace
     * of each batch is later along the queue unless the clock steps back; the purge then sorts the queue again (see
     * {@link #purgeExpired(long)}).
     */
    private final ArrayDeque<Batch> byTime = new ArrayDeque<>();
    private long nextKey;

    /** A batch of traces: its store key, or -1 while it is pending, and the routing time of its newest trace. */
    private static final class Batch {
        private long key;
        private long newestRoutedAtMs;

        Batch(long key, long newestRoutedAtMs) {
            this.key = key;
            this.newestRoutedAtMs = newestRoutedAtMs;
        }
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
        index.clear();
        long highestKey = -1;
        // Keys are written as big-endian longs, so the store returns them in the order the batches were written, and a
        // trace of a request routed again overrides the one of an earlier batch.
        try (KeyValueIterator<Long, byte[]> entries = batches.all()) {
            while (entries.hasNext()) {
                KeyValue<Long, byte[]> entry = entries.next();
                List<RoutingTrace> traces = StoreSerdes.readTraceBatch(describe(entry.key), entry.value);
                var batch = new Batch(entry.key, traces.stream().mapToLong(RoutingTrace::routedAtMs).max()
                        .orElse(Long.MIN_VALUE));
                traces.forEach(trace -> index.put(trace.requestId(), batch));
                all.add(batch);
                highestKey = Math.max(highestKey, entry.key);
            }
        }
        all.sort(Comparator.comparingLong(batch -> batch.newestRoutedAtMs));
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
        synchronized (pendingBytes) {
            StoreSerdes.appendTrace(pendingBytes, trace);
        }
        index.put(trace.requestId(), pending);
        pending.newestRoutedAtMs = Math.max(pending.newestRoutedAtMs, trace.routedAtMs());
        if (pendingBytes.length() >= BATCH_BYTES) {
            flush();
        }
    }

    /** Writes the pending traces to the store as one batch, if there are any. */
    void flush() {
        if (pendingBytes.length() == StoreSerdes.TRACE_BATCH_HEADER_BYTES) {
            return;
        }
        long key = nextKey++;
        // Stored before the key is set, so that a query that sees the key finds the batch.
        batches.put(key, pendingBytes.toByteArray());
        synchronized (pendingBytes) {
            pending.key = key;
            pendingBytes.truncate(StoreSerdes.TRACE_BATCH_HEADER_BYTES);
        }
        byTime.addLast(pending);
        pending = new Batch(-1, Long.MIN_VALUE);
    }

    /**
     * Deletes the batches whose newest trace was decided more than {@code trace.retention.ms} before {@code nowMs}.
     * Pending traces stay until they are written.
     */
    void purgeExpired(long nowMs) {
        long cutoffMs = nowMs - retentionMs;
        if (!byTime.isEmpty() && byTime.peekFirst().newestRoutedAtMs > nowMs) {
            // The clock stepped back since the first batch was written, so later batches may be older and queued behind it.
            List<Batch> all = new ArrayList<>(byTime);
            all.sort(Comparator.comparingLong(batch -> batch.newestRoutedAtMs));
            byTime.clear();
            byTime.addAll(all);
        }
        while (!byTime.isEmpty() && byTime.peekFirst().newestRoutedAtMs <= cutoffMs) {
            Batch batch = byTime.pollFirst();
            byte[] data = batches.get(batch.key);
            if (data != null) {
                for (RoutingTrace trace : StoreSerdes.readTraceBatch(describe(batch.key), data)) {
                    // A request routed again after a rebalance has a newer trace in a later batch; keep that one.
                    index.remove(trace.requestId(), batch);
                }
                batches.delete(batch.key);
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
        Batch batch = index.get(requestId);
        if (batch == null) {
            return null;
        }
        long key;
        byte[] data = null;
        synchronized (pendingBytes) {
            key = batch.key;
            if (key < 0) {
                // Only the current batch is pending, and a trace is appended before it is indexed.
                data = pendingBytes.toByteArray();
            }
        }
        if (data == null) {
            data = store.get().get(key);
            if (data == null) {
                return null;
            }
        }
        RoutingTrace found = null;
        for (RoutingTrace candidate : StoreSerdes.readTraceBatch(key < 0 ? "pending" : describe(key), data)) {
            if (candidate.requestId().equals(requestId)) {
                found = candidate;
            }
        }
        return found;
    }

    /** Returns how many request ids the index holds, written or pending; safe to call from any thread. */
    long indexed() {
        return index.mappingCount();
    }

    private static String describe(long key) {
        return RoutingTopology.ROUTING_TRACES_STORE + " key " + key;
    }
}
