package dev.backbone.bench;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * A consistent-hash ring with virtual nodes (Karger et al., 1997; the {@code ring_hash} of Envoy), the comparison
 * baseline of {@link LoadBalancerBenchmark}: each server places {@code virtualNodes} points on a 64-bit ring, and a
 * key belongs to the first point at or after its hash, wrapping around. Immutable and thread-safe.
 */
final class HashRing {

    private static final long POINT_SEED = 0x72696e67706f696eL;
    private static final long KEY_SEED = 0x72696e676b657931L;

    private final long[] points;
    private final int[] owners;
    private final String[] servers;

    private HashRing(long[] points, int[] owners, String[] servers) {
        this.points = points;
        this.owners = owners;
        this.servers = servers;
    }

    /** Builds a ring of {@code virtualNodes} points per server. */
    static HashRing build(List<String> servers, int virtualNodes) {
        int count = servers.size() * virtualNodes;
        long[] packed = new long[count];
        long[][] entries = new long[count][];
        int next = 0;
        for (int server = 0; server < servers.size(); server++) {
            for (int node = 0; node < virtualNodes; node++) {
                entries[next++] = new long[] {hash64(servers.get(server) + "#" + node, POINT_SEED), server};
            }
        }
        Arrays.sort(entries, (a, b) -> Long.compareUnsigned(a[0], b[0]));
        int[] owners = new int[count];
        for (int i = 0; i < count; i++) {
            packed[i] = entries[i][0];
            owners[i] = (int) entries[i][1];
        }
        return new HashRing(packed, owners, servers.toArray(String[]::new));
    }

    /** Returns the server that owns {@code key}. */
    String lookup(String key) {
        long hash = hash64(key, KEY_SEED);
        int low = 0;
        int high = points.length;
        // The first point whose unsigned value is at or after the hash.
        while (low < high) {
            int middle = (low + high) >>> 1;
            if (Long.compareUnsigned(points[middle], hash) < 0) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        return servers[owners[low == points.length ? 0 : low]];
    }

    /** FNV-1a over the UTF-8 bytes, finished with the SplitMix64 mixer; the same scheme as the routing module. */
    static long hash64(String text, long seed) {
        long hash = 0xcbf29ce484222325L ^ mix(seed);
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        return mix(hash);
    }

    /** Mixes the bits of a value with the SplitMix64 finalizer. */
    static long mix(long value) {
        long z = value;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
