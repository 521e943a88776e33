package dev.backbone.routing;

import dev.backbone.events.Heartbeat;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Liveness of load balancers and app servers, read from the global store of their last heartbeats. A sender is alive
 * while its last heartbeat, by its {@code sentAtMs}, is younger than the heartbeat timeout on the wall clock.
 */
final class ServerDirectory {

    private final ReadOnlyKeyValueStore<String, Heartbeat> heartbeats;
    private final long timeoutMs;

    ServerDirectory(ReadOnlyKeyValueStore<String, Heartbeat> heartbeats, long timeoutMs) {
        this.heartbeats = heartbeats;
        this.timeoutMs = timeoutMs;
    }

    /** Returns the last heartbeat of a live load balancer that accepts requests, or null when it is dead or draining. */
    Heartbeat liveLoadBalancer(String address, long nowMs) {
        Heartbeat heartbeat = heartbeats.get(address);
        if (heartbeat == null || heartbeat.kind() != Heartbeat.Kind.LOAD_BALANCER) {
            return null;
        }
        return isAlive(heartbeat, nowMs) && heartbeat.state() == Heartbeat.State.UP ? heartbeat : null;
    }

    /**
     * Returns the app servers of a pool that take new keys: alive and UP. DRAINING servers keep serving what reaches
     * them but get no new keys. Sorted by server id.
     * NOTE: scans every heartbeat, which is cheap for pools of tens of servers; an index by pool would suit thousands.
     */
    Map<String, Heartbeat> healthyAppServers(String pool, long nowMs) {
        var healthy = new TreeMap<String, Heartbeat>();
        try (var all = heartbeats.all()) {
            while (all.hasNext()) {
                Heartbeat heartbeat = all.next().value;
                if (heartbeat.kind() == Heartbeat.Kind.APP_SERVER && heartbeat.pool().equals(pool)
                        && heartbeat.state() == Heartbeat.State.UP && isAlive(heartbeat, nowMs)) {
                    healthy.put(heartbeat.serverId(), heartbeat);
                }
            }
        }
        return healthy;
    }

    private boolean isAlive(Heartbeat heartbeat, long nowMs) {
        return nowMs - heartbeat.sentAtMs() < timeoutMs;
    }
}
