package dev.backbone.routing;

import dev.backbone.events.HostNames;
import dev.backbone.events.DnsRecord;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Resolves a host name for one client against the DNS records, following alias (CNAME) records. Each name is looked up
 * at the client's region, then its country, then globally, like a chain of regional, national and worldwide resolvers.
 * Stateless and thread-safe when the record lookup is.
 */
final class DnsResolver {

    /** Longest CNAME chain followed; one more link is a resolution error, so that a long chain cannot stall routing. */
    static final int MAX_CNAME_LINKS = 8;

    /** The level that answered a lookup, as recorded in {@code RoutedRequest.resolvedBy}. */
    enum Level {
        REGION("region"), COUNTRY("country"), GLOBAL("global");

        private final String label;

        Level(String label) {
            this.label = label;
        }

        String label() {
            return label;
        }
    }

    /** The outcome of one resolution. */
    sealed interface Resolution permits Resolved, UnknownHost, Failed {
    }

    /**
     * An address answer.
     *
     * @param level         the level whose record answered the name the client asked for
     * @param addressRecord the A record at the end of the CNAME chain
     * @param ttlMs         the smallest TTL along the chain, in milliseconds
     * @param chain         the names looked up, from the host the client asked for to the A record's name
     */
    record Resolved(Level level, DnsRecord addressRecord, long ttlMs, List<String> chain) implements Resolution {

        Resolved {
            chain = List.copyOf(chain);
        }
    }

    /**
     * No record for a name (NXDOMAIN).
     *
     * @param missingName the name without a record: the host itself, or a CNAME target along its chain
     */
    record UnknownHost(String missingName) implements Resolution {
    }

    /**
     * A resolution error.
     *
     * @param reason  a stable code: {@code cname_loop}, {@code cname_chain_too_long} or {@code invalid_cname_target}
     * @param message what failed, naming the names involved
     */
    record Failed(String reason, String message) implements Resolution {
    }

    private final Function<String, DnsRecord> recordsByKey;

    /** @param recordsByKey returns the record stored under a {@link DnsRecord#keyOf(String, String)} key, or null */
    DnsResolver(Function<String, DnsRecord> recordsByKey) {
        this.recordsByKey = recordsByKey;
    }

    /**
     * Resolves a canonical host name for a client of {@code region} and {@code country}; either may be empty.
     */
    Resolution resolve(String host, String region, String country) {
        Set<String> chain = new LinkedHashSet<>();
        chain.add(host);
        String name = host;
        Level firstLevel = null;
        long ttlMs = Long.MAX_VALUE;
        for (int links = 0; ; links++) {
            var found = lookup(name, region, country);
            if (found == null) {
                return new UnknownHost(name);
            }
            if (firstLevel == null) {
                firstLevel = found.level();
            }
            ttlMs = Math.min(ttlMs, Math.min(found.record().ttlSeconds(), Long.MAX_VALUE / 1000) * 1000);
            if (found.record().type() == DnsRecord.Type.A) {
                return new Resolved(firstLevel, found.record(), ttlMs, List.copyOf(chain));
            }

            String target;
            try {
                target = HostNames.canonical(found.record().target());
            } catch (IllegalArgumentException e) {
                return new Failed("invalid_cname_target", "CNAME record of '" + name + "' has an invalid target: " + e.getMessage());
            }
            if (chain.contains(target)) {
                return new Failed("cname_loop", "CNAME loop: " + String.join(" -> ", chain) + " -> " + target);
            }
            if (links == MAX_CNAME_LINKS) {
                return new Failed("cname_chain_too_long", "CNAME chain longer than " + MAX_CNAME_LINKS + " links: "
                        + String.join(" -> ", chain) + " -> " + target);
            }
            chain.add(target);
            name = target;
        }
    }

    private record Found(Level level, DnsRecord record) {
    }

    private Found lookup(String name, String region, String country) {
        for (String scope : scopes(region, country)) {
            DnsRecord record = recordsByKey.apply(DnsRecord.keyOf(scope, name));
            if (record != null) {
                return new Found(levelOf(scope), record);
            }
        }
        return null;
    }

    private static List<String> scopes(String region, String country) {
        var scopes = new ArrayList<String>(3);
        if (!region.isBlank()) {
            scopes.add("region:" + region);
        }
        if (!country.isBlank()) {
            scopes.add("country:" + country);
        }
        scopes.add(DnsRecord.GLOBAL);
        return scopes;
    }

    private static Level levelOf(String scope) {
        if (scope.startsWith("region:")) {
            return Level.REGION;
        }
        return scope.startsWith("country:") ? Level.COUNTRY : Level.GLOBAL;
    }
}
