package dev.backbone.routing;

import dev.backbone.events.Heartbeat;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses an app server of a pool with a Maglev table over its healthy servers. The table of each pool is cached and
 * rebuilt only when the set of healthy servers or their weights change. Thread-safe: stream threads share one
 * instance, and a rebuild raced by another thread only costs the duplicate work.
 */
final class PoolBalancer {

    private static final Logger log = LoggerFactory.getLogger(PoolBalancer.class);

    private final int tableSize;
    private final IntConsumer onRebuild;
    private final Map<String, Maglev> tablesByPool = new ConcurrentHashMap<>();

    /** @param onRebuild called with the member count after every table build */
    PoolBalancer(int tableSize, IntConsumer onRebuild) {
        this.tableSize = tableSize;
        this.onRebuild = onRebuild;
    }

    /** Returns the server that {@code routingKey} maps to among {@code healthy}, or null when there is none. */
    String choose(String pool, Map<String, Heartbeat> healthy, String routingKey) {
        if (healthy.isEmpty()) {
            return null;
        }
        var weights = new TreeMap<String, Integer>();
        healthy.forEach((serverId, heartbeat) -> weights.put(serverId, heartbeat.weight()));
        Maglev table = tablesByPool.get(pool);
        if (table == null || !table.weights().equals(weights)) {
            table = Maglev.build(weights, tableSize);
            tablesByPool.put(pool, table);
            onRebuild.accept(weights.size());
            log.info("Rebuilt the Maglev table of pool {} over {} app servers: {}", pool, weights.size(), weights.keySet());
        }
        return table.lookup(routingKey);
    }
}
