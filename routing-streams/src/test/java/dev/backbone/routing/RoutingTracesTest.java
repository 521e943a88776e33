package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The purge index of the routing traces, on a real in-memory store; the topology tests cover the processor's use. */
class RoutingTracesTest {

    private static final long RETENTION_MS = 1_000;

    private KeyValueStore<String, RoutingTrace> store;

    @BeforeEach
    void createStore() {
        store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("traces"), Serdes.String(), StoreSerdes.routingTrace())
                .withLoggingDisabled().withCachingDisabled().build();
        store.init(new MockProcessorContext<>().getStateStoreContext(), store);
    }

    @Test
    void zeroRetentionPurgeDeletesLeftoverTraces() {
        // A processor with traces off purges once at start what a run with traces on left behind.
        store.put("req-1", trace("req-1", 100));
        store.put("req-2", trace("req-2", 900));
        var traces = new RoutingTraces(store, 0);
        traces.rebuildIndex();

        traces.purgeExpired(1_000);

        assertThat(store.get("req-1")).isNull();
        assertThat(store.get("req-2")).isNull();
        assertThat(traces.indexed()).isZero();
    }

    @Test
    void purgeDeletesOnlyTracesOlderThanTheRetention() {
        var traces = new RoutingTraces(store, RETENTION_MS);
        traces.put(trace("req-1", 100));
        traces.put(trace("req-2", 200));
        traces.put(trace("req-3", 300));

        traces.purgeExpired(1_200);

        assertThat(store.get("req-1")).isNull();
        assertThat(store.get("req-2")).as("routed exactly at the cutoff").isNull();
        assertThat(store.get("req-3")).isNotNull();
        assertThat(traces.indexed()).isEqualTo(1);

        traces.purgeExpired(5_000);

        assertThat(store.approximateNumEntries()).isZero();
        assertThat(traces.indexed()).isZero();
    }

    @Test
    void rebuiltIndexFindsRestoredTracesInTimeOrder() {
        // As after a restore from the changelog: the store contains traces that no index has seen, in key order.
        // Key order and time order differ, so an index that is not sorted by time purges the wrong trace.
        store.put("a-late", trace("a-late", 900));
        store.put("b-early", trace("b-early", 100));
        var traces = new RoutingTraces(store, RETENTION_MS);

        traces.rebuildIndex();
        assertThat(traces.indexed()).isEqualTo(2);
        traces.purgeExpired(1_500);

        assertThat(store.get("b-early")).isNull();
        assertThat(store.get("a-late")).isNotNull();
        assertThat(traces.indexed()).isEqualTo(1);
    }

    @Test
    void requestRoutedAgainKeepsItsNewerTrace() {
        var traces = new RoutingTraces(store, RETENTION_MS);
        traces.put(trace("req-1", 100));
        traces.put(trace("req-1", 800));

        traces.purgeExpired(1_500);

        assertThat(store.get("req-1").routedAtMs()).isEqualTo(800);
        traces.purgeExpired(1_800);
        assertThat(store.get("req-1")).isNull();
        assertThat(traces.indexed()).isZero();
    }

    @Test
    void clockStepBackKeepsPurging() {
        var traces = new RoutingTraces(store, RETENTION_MS);
        // Routed while the clock was an hour ahead, then after it was set back.
        traces.put(trace("ahead", 3_600_000));
        traces.put(trace("after-1", 100));
        traces.put(trace("after-2", 200));

        traces.purgeExpired(1_500);

        assertThat(store.get("after-1")).isNull();
        assertThat(store.get("after-2")).isNull();
        assertThat(store.get("ahead")).isNotNull();
        assertThat(traces.indexed()).isEqualTo(1);
    }

    private static RoutingTrace trace(String requestId, long routedAtMs) {
        return new RoutingTrace(requestId, "client-1", "shop.example.com", "region", false, List.of(), "lb-1", "shop",
                "app-1", false, RoutingTrace.ROUTED, 0, null, routedAtMs);
    }
}
