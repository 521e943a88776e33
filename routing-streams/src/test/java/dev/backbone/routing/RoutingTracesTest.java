package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The time index key, whose byte order must be time order; the topology tests cover the purge itself. */
class RoutingTracesTest {

    @Test
    void indexKeyPadsTimeTo19Digits() {
        for (long time : new long[]{0, 1, 42, 1_733_356_800_123L, 999_999_999_999_999_999L, Long.MAX_VALUE, -5}) {
            assertThat(RoutingTraces.indexKey(time, "req-1")).as("time %d", time)
                    .isEqualTo(String.format("%019d", time) + '\u001f' + "req-1");
        }
    }

    @Test
    void indexKeysSortByTime() {
        assertThat(RoutingTraces.indexKey(9, "z")).isLessThan(RoutingTraces.indexKey(10, "a"));
        assertThat(RoutingTraces.indexKey(1_733_356_800_123L, "z")).isLessThan(RoutingTraces.indexKey(1_733_356_800_124L, ""));
    }
}
