package dev.backbone.routing;

import dev.backbone.events.DnsRecord;
import java.util.List;

/**
 * Turns the resolution of a name into the answer one client gets: the addresses in that client's own order, the level
 * that answered, and when the answer expires from the client's DNS cache. The route processor and the resolve query of
 * the REST API both call it, so that the query shows exactly what routing does. Thread-safe when the resolver's record
 * lookup is.
 */
final class DnsAnswers {

    /**
     * One client's answer.
     *
     * @param resolution what the records say about the name
     * @param answer     the answer as the client caches it; null for a resolution error, which is never cached
     * @param ttlMs      how long the client may cache it, in milliseconds; 0 means not at all
     */
    record ClientAnswer(DnsResolver.Resolution resolution, CachedAnswer answer, long ttlMs) {

        /** Returns whether the answer goes into the client's DNS cache: not for errors, not for a TTL of 0. */
        boolean cacheable() {
            return answer != null && ttlMs > 0;
        }
    }

    private final DnsResolver resolver;
    private final long negativeTtlMs;

    /** @param negativeTtlMs how long a client caches an unknown-host answer, in milliseconds; 0 means not at all */
    DnsAnswers(DnsResolver resolver, long negativeTtlMs) {
        this.resolver = resolver;
        this.negativeTtlMs = negativeTtlMs;
    }

    /** Resolves a canonical host name for a client of {@code region} and {@code country}, either of which may be empty. */
    ClientAnswer answer(String clientId, String host, String region, String country, long nowMs) {
        var resolution = resolver.resolve(host, region, country);
        if (resolution instanceof DnsResolver.Resolved resolved) {
            DnsRecord record = resolved.addressRecord();
            List<String> order = AddressOrder.forClient(record.addresses(), clientId, record.name(), record.version());
            var answer = new CachedAnswer(host, false, order, resolved.level().label(),
                    saturatedAdd(nowMs, resolved.ttlMs()));
            return new ClientAnswer(resolution, answer, resolved.ttlMs());
        }
        if (resolution instanceof DnsResolver.UnknownHost) {
            var answer = new CachedAnswer(host, true, List.of(), null, saturatedAdd(nowMs, negativeTtlMs));
            return new ClientAnswer(resolution, answer, negativeTtlMs);
        }
        return new ClientAnswer(resolution, null, 0);
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }
}
