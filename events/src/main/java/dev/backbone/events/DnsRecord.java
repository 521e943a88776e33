package dev.backbone.events;

import java.util.List;
import java.util.Locale;

/**
 * One DNS record: an address record (a list of load-balancer addresses) or an alias record (a target name).
 * The record key on {@code backbone.dns-records} is {@link #key()}; a null value deletes the record.
 *
 * @param schemaVersion event schema version, {@link #SCHEMA_VERSION} for events written by this code
 * @param name          the host name, lower case, punycode, without a trailing dot
 * @param scope         {@code global}, {@code country:XX} or {@code region:NAME}
 * @param type          {@link Type#A} or {@link Type#CNAME}
 * @param addresses     load-balancer addresses, for type A; empty for CNAME
 * @param target        the alias target name, for type CNAME; {@code null} for A
 * @param ttlSeconds    how long clients may cache the answer; 0 means do not cache
 * @param version       a number that grows with every change of the record
 */
public record DnsRecord(
        int schemaVersion,
        String name,
        String scope,
        Type type,
        List<String> addresses,
        String target,
        long ttlSeconds,
        long version) {

    public static final int SCHEMA_VERSION = 1;
    public static final String GLOBAL = "global";

    /** Record types. */
    public enum Type { A, CNAME }

    public DnsRecord {
        Events.requireSchemaVersion(schemaVersion, SCHEMA_VERSION, "DnsRecord");
        Events.requireText(name, "name");
        Events.requireText(scope, "scope");
        if (type == null) {
            throw new IllegalArgumentException("type is missing; accepted: A, CNAME");
        }
        addresses = addresses == null ? List.of() : List.copyOf(addresses);
        if (type == Type.A && addresses.isEmpty()) {
            throw new IllegalArgumentException("addresses must not be empty for an A record named " + name);
        }
        if (type == Type.CNAME && (target == null || target.isBlank())) {
            throw new IllegalArgumentException("target is missing for a CNAME record named " + name);
        }
        if (ttlSeconds < 0) {
            throw new IllegalArgumentException("ttlSeconds must be >= 0, got " + ttlSeconds);
        }
    }

    /** Returns the record key on {@code backbone.dns-records}: {@code scope/name}, such as {@code global/shop.example.com}. */
    public String key() {
        return keyOf(scope, name);
    }

    /** Returns the record key for a scope and a name already in canonical form. */
    public static String keyOf(String scope, String name) {
        return scope.toLowerCase(Locale.ROOT) + "/" + name;
    }
}
