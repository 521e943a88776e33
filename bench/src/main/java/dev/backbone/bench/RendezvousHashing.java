package dev.backbone.bench;

import java.util.List;

/**
 * Rendezvous (highest random weight) hashing (Thaler and Ravishankar, 1998), a comparison baseline of
 * {@link LoadBalancerBenchmark}: a key belongs to the server with the highest score {@code mix(keyHash + serverHash)},
 * so a lookup costs one score per server. Immutable and thread-safe.
 */
final class RendezvousHashing {

    private static final long SERVER_SEED = 0x72656e6465737631L;
    private static final long KEY_SEED = 0x72656e6465737632L;

    private final String[] servers;
    private final long[] serverHashes;

    RendezvousHashing(List<String> servers) {
        this.servers = servers.toArray(String[]::new);
        this.serverHashes = new long[this.servers.length];
        for (int i = 0; i < this.servers.length; i++) {
            serverHashes[i] = HashRing.hash64(this.servers[i], SERVER_SEED);
        }
    }

    /** Returns the server that owns {@code key}. */
    String lookup(String key) {
        long keyHash = HashRing.hash64(key, KEY_SEED);
        int best = 0;
        long bestScore = HashRing.mix(keyHash + serverHashes[0]);
        for (int i = 1; i < servers.length; i++) {
            long score = HashRing.mix(keyHash + serverHashes[i]);
            if (Long.compareUnsigned(score, bestScore) > 0) {
                best = i;
                bestScore = score;
            }
        }
        return servers[best];
    }
}
