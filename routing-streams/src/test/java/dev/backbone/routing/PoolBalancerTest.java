package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.events.Heartbeat;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class PoolBalancerTest {

    private final List<Integer> rebuilds = new ArrayList<>();
    private final PoolBalancer balancer = new PoolBalancer(Maglev.DEFAULT_TABLE_SIZE, rebuilds::add);

    @Test
    void sameUpMapReusesTheTable() {
        Map<String, Heartbeat> up = up(Map.of("app-1", 1, "app-2", 1));

        Maglev first = balancer.table("shop", up);
        Maglev second = balancer.table("shop", up);

        assertThat(second).isSameAs(first);
        assertThat(rebuilds).containsExactly(2);
    }

    @Test
    void sameWeightsKeepTheTable() {
        Maglev first = balancer.table("shop", up(Map.of("app-1", 1, "app-2", 1)));

        Maglev second = balancer.table("shop", up(Map.of("app-2", 1, "app-1", 1)));

        assertThat(second).isSameAs(first);
        assertThat(rebuilds).containsExactly(2);
    }

    @Test
    void changedWeightOrMemberRebuildsTheTable() {
        Maglev first = balancer.table("shop", up(Map.of("app-1", 1, "app-2", 1)));

        Maglev reweighted = balancer.table("shop", up(Map.of("app-1", 1, "app-2", 3)));
        Maglev grown = balancer.table("shop", up(Map.of("app-1", 1, "app-2", 3, "app-3", 1)));

        assertThat(reweighted).isNotSameAs(first);
        assertThat(reweighted.weights()).containsEntry("app-2", 3);
        assertThat(grown.weights()).containsOnlyKeys("app-1", "app-2", "app-3");
        assertThat(rebuilds).containsExactly(2, 2, 3);
    }

    @Test
    void emptyPoolHasNoTable() {
        assertThat(balancer.table("shop", Map.of())).isNull();
        assertThat(rebuilds).isEmpty();
    }

    private static Map<String, Heartbeat> up(Map<String, Integer> weights) {
        var servers = new TreeMap<String, Heartbeat>();
        weights.forEach((serverId, weight) -> servers.put(serverId, new Heartbeat(Heartbeat.SCHEMA_VERSION, serverId,
                Heartbeat.Kind.APP_SERVER, "shop", Heartbeat.State.UP, List.of(0), weight, 1, 0)));
        return servers;
    }
}
