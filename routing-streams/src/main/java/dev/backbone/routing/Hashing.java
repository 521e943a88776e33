package dev.backbone.routing;

import java.nio.charset.StandardCharsets;

/**
 * Seeded 64-bit string hashes: FNV-1a over the UTF-8 bytes, finished with the SplitMix64 mixer so that every input
 * bit reaches every output bit. Stable across JVMs and releases, unlike {@link String#hashCode()} spreads.
 */
final class Hashing {

    private static final long FNV_OFFSET_BASIS = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private Hashing() {
    }

    /** Hashes the UTF-8 bytes of {@code text}; different seeds give independent hash functions. */
    static long hash64(String text, long seed) {
        long hash = FNV_OFFSET_BASIS ^ mix(seed);
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= FNV_PRIME;
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
