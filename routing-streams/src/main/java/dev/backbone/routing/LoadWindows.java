package dev.backbone.routing;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;

/**
 * Requests routed by this instance to each app server, counted in one-second buckets over the last
 * {@link #MAX_WINDOW_MS}. A window of W ms covers the current second and the W / 1000 - 1 seconds before it.
 *
 * <p>Each pool also keeps a running count over its bounded-load window, so that a routing decision reads a server's
 * load and the pool's total without summing buckets. Thread-safe: each pool has its own lock.
 */
final class LoadWindows {

    static final long BUCKET_MS = 1_000;
    /** The maximum window: 5 minutes, for the 5-minute load query. */
    static final long MAX_WINDOW_MS = 300_000;
    private static final int BUCKETS = (int) (MAX_WINDOW_MS / BUCKET_MS);

    private final Map<String, PoolLoads> pools = new ConcurrentHashMap<>();

    /**
     * Returns the loads of a pool, created on first use with its bounded-load window. The window of an existing pool
     * does not change.
     */
    PoolLoads pool(String pool, long boundedWindowMs) {
        return pools.computeIfAbsent(pool, name -> new PoolLoads(bucketsOf(boundedWindowMs)));
    }

    /** Returns the loads of a pool, or null when nothing was routed to it. */
    PoolLoads existing(String pool) {
        return pools.get(pool);
    }

    private static int bucketsOf(long windowMs) {
        return (int) Math.max(1, Math.min(BUCKETS, windowMs / BUCKET_MS));
    }

    /** The request counts of one pool's servers. */
    static final class PoolLoads {

        private final int boundedBuckets;
        private final Map<String, long[]> bucketsByServer = new HashMap<>();
        private final Map<String, Long> boundedCounts = new HashMap<>();
        private long boundedTotal;
        /** The bucket number (epoch milliseconds / BUCKET_MS) of the current second; buckets are kept modulo BUCKETS. */
        private long current = Long.MIN_VALUE;

        private PoolLoads(int boundedBuckets) {
            this.boundedBuckets = boundedBuckets;
        }

        /** Counts one request routed to {@code serverId} at {@code nowMs}. */
        synchronized void record(String serverId, long nowMs) {
            advance(nowMs);
            long[] buckets = bucketsByServer.computeIfAbsent(serverId, id -> new long[BUCKETS]);
            buckets[(int) Math.floorMod(current, (long) BUCKETS)]++;
            boundedCounts.merge(serverId, 1L, Long::sum);
            boundedTotal++;
        }

        /** Returns a server's count over the bounded-load window. */
        synchronized long boundedCount(String serverId, long nowMs) {
            advance(nowMs);
            return boundedCounts.getOrDefault(serverId, 0L);
        }

        /** Returns the count of every server of the pool over the bounded-load window. */
        synchronized long boundedTotal(long nowMs) {
            advance(nowMs);
            return boundedTotal;
        }

        /**
         * Runs {@code decision} with the bounded-window counts, then counts the request it returns, all under this
         * pool's lock, so that concurrent stream threads do not overfill a server between reading and counting.
         */
        synchronized String decideAndRecord(long nowMs, Decision decision) {
            advance(nowMs);
            String serverId = decision.choose(id -> boundedCounts.getOrDefault(id, 0L), boundedTotal);
            if (serverId != null) {
                record(serverId, nowMs);
            }
            return serverId;
        }

        /** Returns each server's count over the last {@code windowMs}, up to {@link #MAX_WINDOW_MS}, by server id. */
        synchronized Map<String, Long> counts(long windowMs, long nowMs) {
            advance(nowMs);
            int buckets = bucketsOf(windowMs);
            var counts = new TreeMap<String, Long>();
            bucketsByServer.forEach((serverId, perSecond) -> {
                long sum = 0;
                for (int back = 0; back < buckets; back++) {
                    sum += perSecond[(int) Math.floorMod(current - back, (long) BUCKETS)];
                }
                counts.put(serverId, sum);
            });
            return counts;
        }

        /** Moves the current bucket to {@code nowMs}, clearing the buckets that fall out of the kept range. */
        private void advance(long nowMs) {
            long bucket = Math.floorDiv(nowMs, BUCKET_MS);
            if (current == Long.MIN_VALUE || bucket - current >= BUCKETS) {
                bucketsByServer.values().forEach(perSecond -> Arrays.fill(perSecond, 0));
                boundedCounts.replaceAll((id, count) -> 0L);
                boundedTotal = 0;
                current = bucket;
                return;
            }
            // A clock that steps back keeps counting into the current bucket.
            while (current < bucket) {
                current++;
                int leaving = (int) Math.floorMod(current - boundedBuckets, (long) BUCKETS);
                int reused = (int) Math.floorMod(current, (long) BUCKETS);
                for (var entry : bucketsByServer.entrySet()) {
                    long[] perSecond = entry.getValue();
                    long left = perSecond[leaving];
                    if (left != 0) {
                        boundedCounts.merge(entry.getKey(), -left, Long::sum);
                        boundedTotal -= left;
                    }
                    perSecond[reused] = 0;
                }
            }
        }
    }

    /** A routing decision made with the bounded-window loads. */
    @FunctionalInterface
    interface Decision {
        /** Returns the chosen server, or null for none. */
        String choose(ToLongFunction<String> loadOf, long totalLoad);
    }
}
