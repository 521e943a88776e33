package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.events.Heartbeat;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MembershipTest {

    private static final long T0 = 1_900_000_000_000L;

    private final List<String> changes = new ArrayList<>();
    private final Membership membership = new Membership(3_000, 2, 30_000,
            (member, from) -> changes.add(member.serverId() + ":" + from + "->" + member.state()));

    private static Heartbeat heartbeat(String id, String pool, Heartbeat.State state, int weight, long sentAtMs) {
        return new Heartbeat(Heartbeat.SCHEMA_VERSION, id, Heartbeat.Kind.APP_SERVER, pool, state, List.of(1), weight, 1,
                sentAtMs);
    }

    private static Heartbeat up(String id, long sentAtMs) {
        return heartbeat(id, "shop", Heartbeat.State.UP, 1, sentAtMs);
    }

    @Test
    void everyAllowedTransitionIsListed() {
        for (MemberState from : MemberState.values()) {
            assertThat(from.canChangeTo(from)).as("%s to itself", from).isFalse();
        }
        assertThat(MemberState.UP.next()).containsExactlyInAnyOrder(MemberState.DRAINING, MemberState.DOWN);
        assertThat(MemberState.DOWN.canChangeTo(MemberState.UP)).as("rise count 1").isTrue();
    }

    @Test
    void transitionsReportedOnceInOrder() {
        membership.onHeartbeat(up("app-1", T0), T0);
        membership.expire(T0 + 3_000);
        membership.expire(T0 + 9_000);
        membership.onHeartbeat(up("app-1", T0 + 9_000), T0 + 9_000);
        membership.onHeartbeat(up("app-1", T0 + 10_000), T0 + 10_000);

        assertThat(changes).containsExactly("app-1:null->UP", "app-1:UP->DOWN", "app-1:DOWN->JOINING",
                "app-1:JOINING->UP");
    }

    @Test
    void upServersCachedUntilPoolChanges() {
        membership.onHeartbeat(up("app-1", T0), T0);
        var first = membership.upAppServers("shop");
        membership.onHeartbeat(up("app-1", T0 + 1_000), T0 + 1_000);
        assertThat(membership.upAppServers("shop")).isSameAs(first);

        membership.onHeartbeat(heartbeat("app-1", "shop", Heartbeat.State.UP, 5, T0 + 2_000), T0 + 2_000);
        var reweighted = membership.upAppServers("shop");
        assertThat(reweighted.version()).isGreaterThan(first.version());
        assertThat(reweighted.servers().get("app-1").weight()).isEqualTo(5);
    }

    @Test
    void poolMoveLeavesOldPool() {
        membership.onHeartbeat(up("app-1", T0), T0);
        membership.onHeartbeat(heartbeat("app-1", "search", Heartbeat.State.UP, 1, T0 + 500), T0 + 500);

        assertThat(membership.upAppServers("shop").servers()).isEmpty();
        assertThat(membership.upAppServers("search").servers()).containsKey("app-1");
        assertThat(membership.pool("shop")).isEmpty();
    }

    @Test
    void removeForgetsMember() {
        membership.onHeartbeat(up("app-1", T0), T0);
        membership.remove("app-1", T0 + 1);

        assertThat(membership.member("app-1")).isNull();
        assertThat(membership.upAppServers("shop").servers()).isEmpty();
    }

    @Test
    void staleHistoryThenFreshHeartbeats() {
        membership.onHeartbeat(up("app-1", T0 - 60_000), T0);
        assertThat(membership.member("app-1").state()).isEqualTo(MemberState.DOWN);
        assertThat(membership.member("app-1").lastReceivedAtMs()).isEqualTo(-1);

        membership.onHeartbeat(up("app-1", T0 + 100), T0 + 100);
        membership.onHeartbeat(up("app-1", T0 + 1_100), T0 + 1_100);

        assertThat(membership.member("app-1").state()).isEqualTo(MemberState.UP);
        assertThat(changes).containsExactly("app-1:null->DOWN", "app-1:DOWN->JOINING", "app-1:JOINING->UP");
    }
}
