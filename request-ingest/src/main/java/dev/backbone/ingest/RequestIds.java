package dev.backbone.ingest;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Makes request ids: random version 4 UUIDs from {@link ThreadLocalRandom}. A request id must be unique, not secret, so
 * it need not come from {@link UUID#randomUUID()}, whose {@code SecureRandom} took 6 % of the batch endpoint's time in a
 * CPU profile.
 */
final class RequestIds {

    private RequestIds() {
    }

    static String next() {
        var random = ThreadLocalRandom.current();
        long most = random.nextLong() & ~0xF000L | 0x4000L;
        long least = random.nextLong() & ~(0xC000L << 48) | 0x8000L << 48;
        return new UUID(most, least).toString();
    }
}
