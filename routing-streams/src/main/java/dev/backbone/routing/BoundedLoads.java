package dev.backbone.routing;

import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * Consistent hashing with bounded loads, the scheme of Mirrokni et al. that HAProxy offers as
 * {@code hash-balance-factor} (a percentage there, such as 150 for 1.5). A key goes to the first server in its
 * Maglev {@linkplain Maglev#preference preference order} whose load, with this request added, stays within
 * {@code ceil(factor * (total + 1) * weight / sumOfWeights)}, where {@code total} is the load of all servers. With a
 * factor of at least 1 some server always has room, so no request is refused: it only spills to a later choice.
 *
 * <p>Stateless and thread-safe. The caller keeps the loads, for example as request counts over a sliding window.
 */
public final class BoundedLoads {

    /** The smallest accepted factor; 1 caps every server at the mean rounded up, at the cost of the most spills. */
    public static final double MIN_FACTOR = 1.0;

    private BoundedLoads() {
    }

    /**
     * A chosen server.
     *
     * @param serverId the server that takes the request
     * @param spilled  whether it is not the key's first choice, because that one was full
     */
    public record Choice(String serverId, boolean spilled) {
    }

    /**
     * Chooses the server for a key.
     *
     * @param loadOf    the current load of a server of the table, 0 when it has none
     * @param totalLoad the sum of the loads of the table's servers
     * @param factor    at least {@link #MIN_FACTOR}
     * @throws IllegalArgumentException when {@code factor} is below {@link #MIN_FACTOR} or not a number
     */
    public static Choice choose(Maglev table, String key, ToLongFunction<String> loadOf, long totalLoad, double factor) {
        if (!(factor >= MIN_FACTOR)) {
            throw new IllegalArgumentException("bounded-load factor must be at least " + MIN_FACTOR + ", got " + factor);
        }
        Map<String, Integer> weights = table.weights();
        long weightSum = 0;
        for (int weight : weights.values()) {
            weightSum += weight;
        }
        double perWeight = factor * (totalLoad + 1) / weightSum;
        String first = table.lookup(key);
        String chosen = table.firstAccepted(key,
                server -> loadOf.applyAsLong(server) + 1 <= Math.ceil(perWeight * weights.get(server)));
        if (chosen == null) {
            // Only reachable when the loads passed do not add up to totalLoad.
            chosen = first;
        }
        return new Choice(chosen, !chosen.equals(first));
    }
}
