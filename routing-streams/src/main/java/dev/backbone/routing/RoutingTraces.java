package dev.backbone.routing;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The routing traces of one task. Traces are written to the store in batches, one changelog record per batch rather
 * than per request: a record per request cost the routing layer about a sixth of its throughput. A batch is written
 * when it reaches {@link #BATCH_BYTES} and whenever Kafka Streams commits the task ({@link TraceCommitHook}).
 * NOTE: Kafka Streams 4.3 commits the stores right after the input offsets, so a crash between the two loses the
 * traces of up to one commit interval, and their requests are not routed again.
 *
 * <p>Each batch carries a Bloom filter of its request ids instead of an index entry per request: adding an id sets
 * three bits, and nothing per request stays on the heap but the trace's bytes. A query checks the filters of all
 * batches and decodes only those whose filter matches, the pending one from its bytes in memory.
 * {@link #rebuildFilters()} recreates the filters from the store when the task starts, such as after a restore from the
 * changelog. Batch keys rise by one from the highest key in the store.
 *
 * <p>{@link #put}, {@link #flush}, {@link #purgeExpired} and {@link #rebuildFilters} run on the stream thread;
 * {@link #find} and {@link #traceCount} are safe to call from any thread.
 */
final class RoutingTraces {

    /** A batch is written once its encoded traces reach this size, far below Kafka's default 1 MB record limit. */
    static final int BATCH_BYTES = 64 * 1024;
    /**
     * Bits of a batch's Bloom filter. A full batch contains about 450 traces. With 3 bits per id, the filter then
     * matches an absent id in about 0.4 % of batches, and each such match costs one batch decoded.
     */
    static final int FILTER_BITS = 8192;

    private final KeyValueStore<Long, byte[]> batches;
    private final long retentionMs;
    /**
     * The written batches by the routing time of their newest trace, as they are written unless the clock steps back
     * (see {@link #purgeExpired(long)}). Queries iterate it from other threads.
     */
    private final ConcurrentLinkedDeque<Batch> written = new ConcurrentLinkedDeque<>();
    /** The batch that collects the traces routed since the last write; swapped under the lock of its bytes. */
    private Batch pending = new Batch();
    /**
     * The encoded traces of the pending batch, reused from batch to batch. Its lock guards the appends, the pending
     * batch and its filter, and the reads of other threads. The stream thread reads it without the lock, because it
     * alone writes.
     */
    private final StoreSerdes.Output pendingBytes = StoreSerdes.newTraceBatch(BATCH_BYTES + 4096);
    private final AtomicLong traceCount = new AtomicLong();
    private long nextKey;

    /** A batch of traces: its store key (-1 while pending), its filter, and its newest routing time and count. */
    private static final class Batch {
        private final long[] filter = new long[FILTER_BITS / Long.SIZE];
        private long key = -1;
        private long newestRoutedAtMs = Long.MIN_VALUE;
        private int count;

        void add(RoutingTrace trace) {
            int hash = spread(trace.requestId().hashCode());
            for (int i = 0; i < 3; i++) {
                int bit = bit(hash, i);
                filter[bit >>> 6] |= 1L << bit;
            }
            newestRoutedAtMs = Math.max(newestRoutedAtMs, trace.routedAtMs());
            count++;
        }

        boolean mightContain(String requestId) {
            int hash = spread(requestId.hashCode());
            for (int i = 0; i < 3; i++) {
                int bit = bit(hash, i);
                if ((filter[bit >>> 6] & 1L << bit) == 0) {
                    return false;
                }
            }
            return true;
        }

        /**
         * Returns the {@code i}-th filter bit of an id by double hashing: h, h + step and h + 2 step, with an odd step
         * from the hash's upper bits.
         */
        private static int bit(int hash, int i) {
            int step = hash >>> 16 | 1;
            return (hash + i * step) & (FILTER_BITS - 1);
        }

        /** Mixes the bits of {@link String#hashCode()}, whose low bits vary little between similar ids. */
        private static int spread(int hash) {
            int mixed = hash * 0x9E3779B9;
            return mixed ^ mixed >>> 15;
        }
    }

    RoutingTraces(KeyValueStore<Long, byte[]> batches, long retentionMs) {
        this.batches = batches;
        this.retentionMs = retentionMs;
    }

    /**
     * Recreates the filters of every batch in the store, such as those restored from the changelog after the task moved
     * to this instance, so that queries find their traces and the purge deletes them in time.
     */
    void rebuildFilters() {
        List<Batch> all = new ArrayList<>();
        long highestKey = -1;
        long traces = 0;
        try (KeyValueIterator<Long, byte[]> entries = batches.all()) {
            while (entries.hasNext()) {
                KeyValue<Long, byte[]> entry = entries.next();
                var batch = new Batch();
                StoreSerdes.readTraceBatch(describe(entry.key), entry.value).forEach(batch::add);
                batch.key = entry.key;
                all.add(batch);
                traces += batch.count;
                highestKey = Math.max(highestKey, entry.key);
            }
        }
        all.sort(Comparator.comparingLong(batch -> batch.newestRoutedAtMs));
        written.clear();
        written.addAll(all);
        traceCount.set(traces);
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
            pending.add(trace);
        }
        traceCount.lazySet(traceCount.get() + 1);
        if (pendingBytes.length() >= BATCH_BYTES) {
            flush();
        }
    }

    /** Writes the pending traces to the store as one batch, if there are any. */
    void flush() {
        if (pending.count == 0) {
            return;
        }
        long key = nextKey++;
        // Stored before the batch is listed as written, so that a query that finds it there finds it in the store.
        batches.put(key, pendingBytes.toByteArray());
        synchronized (pendingBytes) {
            pending.key = key;
            written.addLast(pending);
            pending = new Batch();
            pendingBytes.truncate(StoreSerdes.TRACE_BATCH_HEADER_BYTES);
        }
    }

    /**
     * Deletes the batches whose newest trace was decided more than {@code trace.retention.ms} before {@code nowMs}.
     * Pending traces stay until they are written.
     */
    void purgeExpired(long nowMs) {
        long cutoffMs = nowMs - retentionMs;
        Batch oldest = written.peekFirst();
        if (oldest != null && oldest.newestRoutedAtMs > nowMs) {
            // The clock stepped back since the first batch was written, so later batches may be older: check them all.
            for (Batch batch : written) {
                if (batch.newestRoutedAtMs <= cutoffMs) {
                    written.remove(batch);
                    delete(batch);
                }
            }
            return;
        }
        while (!written.isEmpty() && written.peekFirst().newestRoutedAtMs <= cutoffMs) {
            delete(written.pollFirst());
        }
    }

    private void delete(Batch batch) {
        batches.delete(batch.key);
        traceCount.lazySet(traceCount.get() - batch.count);
    }

    /**
     * Returns the trace of {@code requestId}, or null when this task has none. A request routed more than once, such
     * as again after a rebalance, returns its latest trace.
     *
     * @param store returns the batch store of this task, as an interactive query returns it; called only when a
     *              written batch's filter matches
     */
    RoutingTrace find(String requestId, Supplier<ReadOnlyKeyValueStore<Long, byte[]>> store) {
        byte[] pendingData = null;
        Iterator<Batch> writtenBatches;
        synchronized (pendingBytes) {
            if (pending.mightContain(requestId)) {
                pendingData = pendingBytes.toByteArray();
            }
            // Taken under the lock, so that a batch written after the pending check is in the iteration.
            writtenBatches = written.iterator();
        }
        RoutingTrace found = pendingData == null ? null : latest(requestId, "pending", pendingData);
        if (found != null) {
            return found;
        }
        // The queue is in time order, not in the order of writing, so every matching batch is read and the one written
        // last wins. Few match: the trace's own batches, and about 0.4 % of the others.
        long foundKey = -1;
        ReadOnlyKeyValueStore<Long, byte[]> batchStore = null;
        while (writtenBatches.hasNext()) {
            Batch batch = writtenBatches.next();
            if (batch.key < foundKey || !batch.mightContain(requestId)) {
                continue;
            }
            if (batchStore == null) {
                batchStore = store.get();
            }
            byte[] data = batchStore.get(batch.key);
            // Null when the purge deleted the batch after the iteration began.
            RoutingTrace trace = data == null ? null : latest(requestId, describe(batch.key), data);
            if (trace != null) {
                found = trace;
                foundKey = batch.key;
            }
        }
        return found;
    }

    /** Returns the last trace of {@code requestId} in a batch's bytes, or null. */
    private static RoutingTrace latest(String requestId, String source, byte[] data) {
        RoutingTrace found = null;
        for (RoutingTrace candidate : StoreSerdes.readTraceBatch(source, data)) {
            if (candidate.requestId().equals(requestId)) {
                found = candidate;
            }
        }
        return found;
    }

    /** Returns the number of traces of this task, written or pending; safe to call from any thread. */
    long traceCount() {
        return traceCount.get();
    }

    private static String describe(long key) {
        return RoutingTopology.ROUTING_TRACES_STORE + " key " + key;
    }
}
