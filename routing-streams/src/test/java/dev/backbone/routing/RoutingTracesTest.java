package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The batches and indexes of the routing traces, on a real in-memory store; the topology tests cover the processor's use. */
class RoutingTracesTest {

    private static final long RETENTION_MS = 1_000;

    private KeyValueStore<Long, byte[]> store;

    @BeforeEach
    void createStore() {
        store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("traces"), Serdes.Long(), Serdes.ByteArray())
                .withLoggingDisabled().withCachingDisabled().build();
        store.init(new MockProcessorContext<>().getStateStoreContext(), store);
    }

    @Test
    void pendingTraceIsFound() {
        var traces = new RoutingTraces(store, RETENTION_MS);
        traces.put(trace("req-1", 100));

        assertThat(store.approximateNumEntries()).as("batches written").isZero();
        assertThat(find(traces, "req-1").routedAtMs()).isEqualTo(100);
        assertThat(find(traces, "req-2")).isNull();
        assertThat(traces.traceCount()).isEqualTo(1);
    }

    @Test
    void flushWritesOneBatch() {
        var traces = new RoutingTraces(store, RETENTION_MS);
        traces.put(trace("req-1", 100));
        traces.put(trace("req-2", 200));

        traces.flush();
        traces.flush();

        assertThat(store.approximateNumEntries()).as("an empty flush writes nothing").isEqualTo(1);
        assertThat(StoreSerdes.readTraceBatch("0", store.get(0L))).extracting(RoutingTrace::requestId)
                .containsExactly("req-1", "req-2");
        assertThat(find(traces, "req-1").routedAtMs()).isEqualTo(100);
        assertThat(find(traces, "req-2").routedAtMs()).isEqualTo(200);
        assertThat(traces.traceCount()).isEqualTo(2);
    }

    @Test
    void fullBatchWrittenBeforeCommit() {
        var traces = new RoutingTraces(store, RETENTION_MS);
        int count = 0;
        while (store.approximateNumEntries() == 0) {
            traces.put(trace("req-" + count, 100));
            count++;
        }

        byte[] batch = store.get(0L);
        assertThat(batch.length).isBetween(RoutingTraces.BATCH_BYTES, RoutingTraces.BATCH_BYTES + 200);
        assertThat(StoreSerdes.readTraceBatch("0", batch)).hasSize(count);
        assertThat(find(traces, "req-0")).isNotNull();
    }

    @Test
    void manyBatchesFindEveryTrace() {
        // The filters may match an absent id, never miss a present one.
        var traces = new RoutingTraces(store, RETENTION_MS);
        for (int i = 0; i < 5_000; i++) {
            traces.put(trace("req-" + i, 100 + i));
        }
        traces.flush();

        assertThat(store.approximateNumEntries()).as("batches").isGreaterThan(5);
        for (int i = 0; i < 5_000; i++) {
            assertThat(find(traces, "req-" + i)).as("req-" + i).extracting(RoutingTrace::routedAtMs).isEqualTo(100L + i);
        }
        for (int i = 5_000; i < 6_000; i++) {
            assertThat(find(traces, "req-" + i)).as("req-" + i).isNull();
        }
        assertThat(traces.traceCount()).isEqualTo(5_000);
    }

    @Test
    void tooLongTraceLeavesBatchIntact() {
        var traces = new RoutingTraces(store, RETENTION_MS);
        traces.put(trace("req-1", 100));
        var tooLong = new RoutingTrace("req-2", "client-1", "a".repeat(70_000), null, false, List.of(), null, null, null,
                false, RoutingTrace.REJECTED, 400, "invalid_host", 100);

        assertThatThrownBy(() -> traces.put(tooLong)).isInstanceOf(SerializationException.class);
        traces.put(trace("req-3", 100));
        traces.flush();

        assertThat(find(traces, "req-2")).isNull();
        assertThat(StoreSerdes.readTraceBatch("0", store.get(0L))).extracting(RoutingTrace::requestId)
                .containsExactly("req-1", "req-3");
    }

    @Test
    void zeroRetentionPurgeDeletesLeftoverBatches() {
        // A processor with traces off purges once at start what a run with traces on left behind.
        var earlier = new RoutingTraces(store, RETENTION_MS);
        earlier.put(trace("req-1", 100));
        earlier.flush();
        earlier.put(trace("req-2", 900));
        earlier.flush();
        var traces = new RoutingTraces(store, 0);
        traces.rebuildFilters();

        traces.purgeExpired(Long.MAX_VALUE);

        assertThat(store.approximateNumEntries()).isZero();
        assertThat(traces.traceCount()).isZero();
    }

    @Test
    void purgeDeletesOnlyExpiredBatches() {
        var traces = new RoutingTraces(store, RETENTION_MS);
        traces.put(trace("req-1", 100));
        traces.put(trace("req-2", 200));
        traces.flush();
        traces.put(trace("req-3", 300));
        traces.flush();

        traces.purgeExpired(1_200);

        assertThat(find(traces, "req-1")).isNull();
        assertThat(find(traces, "req-2")).as("the batch's newest trace was routed exactly at the cutoff").isNull();
        assertThat(find(traces, "req-3")).isNotNull();
        assertThat(store.approximateNumEntries()).isEqualTo(1);
        assertThat(traces.traceCount()).isEqualTo(1);

        traces.purgeExpired(5_000);

        assertThat(store.approximateNumEntries()).isZero();
        assertThat(traces.traceCount()).isZero();
    }

    @Test
    void batchExpiresWithItsNewestTrace() {
        var traces = new RoutingTraces(store, RETENTION_MS);
        traces.put(trace("req-1", 100));
        traces.put(trace("req-2", 700));
        traces.flush();

        traces.purgeExpired(1_500);

        assertThat(find(traces, "req-1")).as("kept up to one batch longer than the retention").isNotNull();
        traces.purgeExpired(1_700);
        assertThat(find(traces, "req-1")).isNull();
    }

    @Test
    void restoredBatchesPurgeInTimeOrder() {
        // As after a restore from the changelog: the store contains batches that no filter has seen. Key order and
        // time order differ, so a queue that is not sorted by time purges the wrong batch.
        var earlier = new RoutingTraces(store, RETENTION_MS);
        earlier.put(trace("late", 900));
        earlier.flush();
        earlier.put(trace("early", 100));
        earlier.flush();
        var traces = new RoutingTraces(store, RETENTION_MS);

        traces.rebuildFilters();
        assertThat(traces.traceCount()).isEqualTo(2);
        assertThat(find(traces, "late").routedAtMs()).isEqualTo(900);
        traces.purgeExpired(1_500);

        assertThat(find(traces, "early")).isNull();
        assertThat(find(traces, "late")).isNotNull();
        assertThat(traces.traceCount()).isEqualTo(1);
    }

    @Test
    void restoreContinuesBatchKeys() {
        var earlier = new RoutingTraces(store, RETENTION_MS);
        earlier.put(trace("req-1", 100));
        earlier.flush();
        var traces = new RoutingTraces(store, RETENTION_MS);
        traces.rebuildFilters();

        traces.put(trace("req-2", 200));
        traces.flush();

        assertThat(keys()).containsExactly(0L, 1L);
        assertThat(find(traces, "req-1")).isNotNull();
    }

    @Test
    void laterBatchWinsAfterClockStepBack() {
        // Routed again after the clock was set back: the later trace has the earlier time, and the queue sorts it first.
        var earlier = new RoutingTraces(store, 10 * RETENTION_MS);
        earlier.put(trace("req-1", 900));
        earlier.flush();
        earlier.put(trace("req-1", 100));
        earlier.flush();
        var traces = new RoutingTraces(store, 10 * RETENTION_MS);
        traces.rebuildFilters();

        assertThat(find(traces, "req-1").routedAtMs()).isEqualTo(100);
        assertThat(find(earlier, "req-1").routedAtMs()).isEqualTo(100);
    }

    @Test
    void requestRoutedAgainKeepsItsNewerTrace() {
        var traces = new RoutingTraces(store, RETENTION_MS);
        traces.put(trace("req-1", 100));
        traces.flush();
        traces.put(trace("req-1", 800));
        traces.flush();

        traces.purgeExpired(1_500);

        assertThat(find(traces, "req-1").routedAtMs()).isEqualTo(800);
        traces.purgeExpired(1_800);
        assertThat(find(traces, "req-1")).isNull();
        assertThat(traces.traceCount()).isZero();
    }

    @Test
    void sameBatchReturnsLastTrace() {
        var traces = new RoutingTraces(store, RETENTION_MS);
        traces.put(trace("req-1", 100));
        traces.put(trace("req-1", 300));
        traces.flush();

        assertThat(find(traces, "req-1").routedAtMs()).isEqualTo(300);
    }

    @Test
    void clockStepBackKeepsPurging() {
        var traces = new RoutingTraces(store, RETENTION_MS);
        // Written while the clock was an hour ahead, then after it was set back.
        traces.put(trace("ahead", 3_600_000));
        traces.flush();
        traces.put(trace("after-1", 100));
        traces.flush();
        traces.put(trace("after-2", 200));
        traces.flush();

        traces.purgeExpired(1_500);

        assertThat(find(traces, "after-1")).isNull();
        assertThat(find(traces, "after-2")).isNull();
        assertThat(find(traces, "ahead")).isNotNull();
        assertThat(traces.traceCount()).isEqualTo(1);
    }

    private RoutingTrace find(RoutingTraces traces, String requestId) {
        return traces.find(requestId, () -> store);
    }

    private List<Long> keys() {
        List<Long> keys = new ArrayList<>();
        try (var entries = store.all()) {
            entries.forEachRemaining(entry -> keys.add(entry.key));
        }
        return keys;
    }

    private static RoutingTrace trace(String requestId, long routedAtMs) {
        return new RoutingTrace(requestId, "client-1", "shop.example.com", "region", false, List.of(), "lb-1", "shop",
                "app-1", false, RoutingTrace.ROUTED, 0, null, routedAtMs);
    }
}
