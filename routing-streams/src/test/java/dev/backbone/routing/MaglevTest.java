package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MaglevTest {

    private static final int KEYS = 100_000;

    private static List<String> servers(int count) {
        var servers = new ArrayList<String>();
        for (int i = 1; i <= count; i++) {
            servers.add("app-" + i);
        }
        return servers;
    }

    @Test
    void tableIgnoresJoinOrder() {
        var joined = servers(10);
        var shuffled = new ArrayList<>(joined);
        Collections.shuffle(shuffled, new Random(42));

        var a = Maglev.build(joined, Maglev.DEFAULT_TABLE_SIZE);
        var b = Maglev.build(shuffled, Maglev.DEFAULT_TABLE_SIZE);

        for (int slot = 0; slot < a.tableSize(); slot++) {
            assertThat(b.serverAt(slot)).isEqualTo(a.serverAt(slot));
        }
    }

    @Test
    void removingOneServerMovesFewKeys() {
        var all = servers(10);
        var before = Maglev.build(all, Maglev.DEFAULT_TABLE_SIZE);
        var remaining = new ArrayList<>(all);
        remaining.remove("app-4");
        var after = Maglev.build(remaining, Maglev.DEFAULT_TABLE_SIZE);

        int moved = 0;
        int movedFromSurvivors = 0;
        for (int i = 0; i < KEYS; i++) {
            String key = "client-" + i;
            String was = before.lookup(key);
            String is = after.lookup(key);
            if (!was.equals(is)) {
                moved++;
                if (!was.equals("app-4")) {
                    movedFromSurvivors++;
                }
            }
        }
        double movedShare = (double) moved / KEYS;
        assertThat(movedShare).isGreaterThan(0.08).isLessThan(0.2);
        assertThat((double) movedFromSurvivors / KEYS).as("keys of surviving servers that moved").isLessThan(0.05);
    }

    @Test
    void keysBalanceOverTenServers() {
        var table = Maglev.build(servers(10), Maglev.DEFAULT_TABLE_SIZE);
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < KEYS; i++) {
            counts.merge(table.lookup("client-" + i), 1, Integer::sum);
        }
        assertThat(counts).hasSize(10);
        double mean = KEYS / 10.0;
        for (var entry : counts.entrySet()) {
            assertThat(Math.abs(entry.getValue() - mean) / mean).as(entry.getKey()).isLessThan(0.05);
        }
    }

    @Test
    void slotsBalanceOverTenServers() {
        var table = Maglev.build(servers(10), Maglev.DEFAULT_TABLE_SIZE);
        Map<String, Integer> slots = new HashMap<>();
        for (int slot = 0; slot < table.tableSize(); slot++) {
            slots.merge(table.serverAt(slot), 1, Integer::sum);
        }
        double mean = table.tableSize() / 10.0;
        for (var entry : slots.entrySet()) {
            assertThat(Math.abs(entry.getValue() - mean) / mean).as(entry.getKey()).isLessThan(0.01);
        }
    }

    @Test
    void weightsSetShareOfSlots() {
        var weights = new LinkedHashMap<String, Integer>();
        weights.put("small", 1);
        weights.put("large", 3);
        var table = Maglev.build(weights, 10_007);
        int large = 0;
        for (int slot = 0; slot < table.tableSize(); slot++) {
            if (table.serverAt(slot).equals("large")) {
                large++;
            }
        }
        assertThat((double) large / table.tableSize()).isBetween(0.74, 0.76);
    }

    @Test
    void singleServerGetsEveryKey() {
        var table = Maglev.build(List.of("only"), 7);
        assertThat(table.lookup("anything")).isEqualTo("only");
        assertThat(table.lookup("")).isEqualTo("only");
    }

    @Test
    void invalidArgumentsAreRejected() {
        assertThatThrownBy(() -> Maglev.build(List.of(), 7)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Maglev.build(List.of("a", "b"), 8)).hasMessageContaining("prime");
        assertThatThrownBy(() -> Maglev.build(Map.of("a", 0), 7)).hasMessageContaining("weight");
        assertThatThrownBy(() -> Maglev.build(servers(10), 7)).hasMessageContaining("larger than the sum");
    }

    @Test
    void weightedTableIgnoresJoinOrder() {
        var joined = new LinkedHashMap<String, Integer>();
        joined.put("app-1", 1);
        joined.put("app-2", 4);
        joined.put("app-3", 2);
        var reversed = new LinkedHashMap<String, Integer>();
        reversed.put("app-3", 2);
        reversed.put("app-2", 4);
        reversed.put("app-1", 1);

        var a = Maglev.build(joined, Maglev.DEFAULT_TABLE_SIZE);
        var b = Maglev.build(reversed, Maglev.DEFAULT_TABLE_SIZE);

        for (int slot = 0; slot < a.tableSize(); slot++) {
            assertThat(b.serverAt(slot)).isEqualTo(a.serverAt(slot));
        }
    }

    @Test
    void weightsSetShareOfKeys() {
        var weights = Map.of("app-1", 1, "app-2", 2, "app-3", 1);
        var table = Maglev.build(weights, Maglev.DEFAULT_TABLE_SIZE);
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < KEYS; i++) {
            counts.merge(table.lookup("client-" + i), 1, Integer::sum);
        }
        assertThat((double) counts.get("app-2") / KEYS).isBetween(0.48, 0.52);
        assertThat((double) counts.get("app-1") / KEYS).isBetween(0.23, 0.27);
    }

    @Test
    void preferenceStartsWithLookupAndIsDistinct() {
        var table = Maglev.build(servers(10), Maglev.DEFAULT_TABLE_SIZE);
        for (int i = 0; i < 100; i++) {
            String key = "client-" + i;
            List<String> order = table.preference(key, 10);
            assertThat(order).hasSize(10).doesNotHaveDuplicates();
            assertThat(order.get(0)).isEqualTo(table.lookup(key));
            assertThat(table.preference(key, 3)).isEqualTo(order.subList(0, 3));
        }
    }

    @Test
    void preferenceSpreadsSecondChoices() {
        var table = Maglev.build(servers(10), Maglev.DEFAULT_TABLE_SIZE);
        Map<String, Integer> secondChoices = new HashMap<>();
        for (int i = 0; i < 10_000; i++) {
            String key = "client-" + i;
            if (table.lookup(key).equals("app-1")) {
                secondChoices.merge(table.preference(key, 2).get(1), 1, Integer::sum);
            }
        }
        assertThat(secondChoices).as("the keys of app-1 spill to every other server").hasSize(9);
    }

    @Test
    void firstAcceptedWalksPreferenceOrder() {
        var table = Maglev.build(servers(5), 101);
        List<String> order = table.preference("key-1", 5);

        assertThat(table.firstAccepted("key-1", server -> true)).isEqualTo(order.get(0));
        assertThat(table.firstAccepted("key-1", server -> !server.equals(order.get(0)))).isEqualTo(order.get(1));
        assertThat(table.firstAccepted("key-1", server -> server.equals(order.get(4)))).isEqualTo(order.get(4));
        assertThat(table.firstAccepted("key-1", server -> false)).isNull();
    }
}
