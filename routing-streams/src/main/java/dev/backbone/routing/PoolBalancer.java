package dev.backbone.routing;

import dev.backbone.events.Heartbeat;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses an app server of a pool with a Maglev table over its UP servers, optionally with bounded loads. The table
 * of each pool is cached and rebuilt only when the UP servers or their weights change. It depends only on the members
 * and their weights, not on the order in which they joined. Thread-safe: stream threads share one instance, and a
 * rebuild raced by another thread only costs the duplicate work.
 */
final class PoolBalancer {

    private static final Logger log = LoggerFactory.getLogger(PoolBalancer.class);

    private final int tableSize;
    private final IntConsumer onRebuild;
    private final Map<String, PoolTable> tablesByPool = new ConcurrentHashMap<>();

    /** A pool's table and the map of UP servers it was last checked against. */
    private record PoolTable(Map<String, Heartbeat> up, Maglev table) {
    }

    /** @param onRebuild called with the member count after every table build */
    PoolBalancer(int tableSize, IntConsumer onRebuild) {
        this.tableSize = tableSize;
        this.onRebuild = onRebuild;
    }

    /**
     * Returns the table over {@code up}, sorted by server id, or null when it is empty. {@code up} must not change
     * after the call: the membership hands out the same unmodifiable map until the pool's UP servers change, so the
     * weights are compared only when another map arrives, not for every request.
     */
    Maglev table(String pool, Map<String, Heartbeat> up) {
        if (up.isEmpty()) {
            return null;
        }
        PoolTable cached = tablesByPool.get(pool);
        if (cached != null && cached.up() == up) {
            return cached.table();
        }
        var weights = new TreeMap<String, Integer>();
        up.forEach((serverId, heartbeat) -> weights.put(serverId, heartbeat.weight()));
        Maglev table = cached == null ? null : cached.table();
        if (table == null || !table.weights().equals(weights)) {
            table = Maglev.build(weights, tableSize);
            onRebuild.accept(weights.size());
            log.info("Rebuilt the Maglev table of pool {} over {} app servers: {}", pool, weights.size(), weights);
        }
        tablesByPool.put(pool, new PoolTable(up, table));
        return table;
    }

    /**
     * Chooses the server for a routing key among {@code up} and counts the request in {@code loads}.
     *
     * <p>With bounded loads, the cap applies to the requests this routing instance routed over the pool's window.
     * Several routing instances each bound their own share: every instance routes a similar mix, because client
     * requests are spread over their partitions by client id, so the pool's total stays close to the bound too, but
     * no instance reads the others' counts.
     *
     * @return the choice, or null when no server is UP
     */
    BoundedLoads.Choice choose(String pool, Map<String, Heartbeat> up, String routingKey, PoolSettings settings,
                               LoadWindows.PoolLoads loads, long nowMs) {
        Maglev table = table(pool, up);
        if (table == null) {
            return null;
        }
        if (!settings.boundedLoads()) {
            String serverId = table.lookup(routingKey);
            loads.record(serverId, nowMs);
            return new BoundedLoads.Choice(serverId, false);
        }
        var spilled = new boolean[1];
        String serverId = loads.decideAndRecord(nowMs, (loadOf, total) -> {
            var choice = BoundedLoads.choose(table, routingKey, loadOf, total, settings.boundedLoadFactor());
            spilled[0] = choice.spilled();
            return choice.serverId();
        });
        return new BoundedLoads.Choice(serverId, spilled[0]);
    }
}
