package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BoundedLoadsTest {

    private static Map<String, Long> route(Maglev table, List<String> keys, double factor, int[] spills) {
        Map<String, Long> loads = new HashMap<>();
        long total = 0;
        for (String key : keys) {
            var choice = BoundedLoads.choose(table, key, server -> loads.getOrDefault(server, 0L), total, factor);
            loads.merge(choice.serverId(), 1L, Long::sum);
            total++;
            if (choice.spilled()) {
                spills[0]++;
            }
        }
        return loads;
    }

    @Test
    void singleHotKeyCappedAtFactorTimesMean() {
        var table = Maglev.build(List.of("a", "b", "c", "d"), 101);
        var keys = java.util.Collections.nCopies(1_000, "hot");
        int[] spills = new int[1];

        var loads = route(table, keys, 1.25, spills);

        long max = loads.values().stream().mapToLong(Long::longValue).max().orElseThrow();
        assertThat(max).isLessThanOrEqualTo((long) Math.ceil(1.25 * 1_000 / 4));
        assertThat(loads.get(table.lookup("hot"))).isEqualTo(max);
        assertThat(spills[0]).isEqualTo(1_000 - max);
    }

    @Test
    void capHoldsAfterEveryRequest() {
        var table = Maglev.build(List.of("a", "b", "c"), 101);
        Map<String, Long> loads = new HashMap<>();
        long total = 0;
        for (int i = 0; i < 600; i++) {
            String key = i % 2 == 0 ? "hot" : "key-" + i;
            var choice = BoundedLoads.choose(table, key, server -> loads.getOrDefault(server, 0L), total, 1.1);
            loads.merge(choice.serverId(), 1L, Long::sum);
            total++;
            long cap = (long) Math.ceil(1.1 * total / 3);
            assertThat(loads.get(choice.serverId())).as("after request %d", i).isLessThanOrEqualTo(cap);
        }
    }

    @Test
    void weightsRaiseCap() {
        var table = Maglev.build(Map.of("big", 3, "small", 1), 101);
        var keys = java.util.Collections.nCopies(400, "hot");
        int[] spills = new int[1];

        var loads = route(table, keys, 1.0, spills);

        assertThat(loads.get("big")).isEqualTo(300);
        assertThat(loads.get("small")).isEqualTo(100);
    }

    @Test
    void evenLoadNeverSpills() {
        var table = Maglev.build(List.of("a", "b"), 101);

        var choice = BoundedLoads.choose(table, "key", server -> 10, 20, 1.25);

        assertThat(choice.spilled()).isFalse();
        assertThat(choice.serverId()).isEqualTo(table.lookup("key"));
    }

    @Test
    void factorBelowOneRejected() {
        var table = Maglev.build(List.of("a"), 7);
        assertThatThrownBy(() -> BoundedLoads.choose(table, "k", server -> 0, 0, 0.9))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0.9");
        assertThatThrownBy(() -> BoundedLoads.choose(table, "k", server -> 0, 0, Double.NaN))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
