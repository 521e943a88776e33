package dev.backbone.routing;

import dev.backbone.events.HostNames;
import dev.backbone.events.DnsRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The rules every DNS record follows, in one place: the admin API checks a record with them before producing it, and
 * the topology checks every record read from {@code backbone.dns-records} with them before storing it, so a record
 * produced by another client that breaks them is dead-lettered instead of answered.
 *
 * <p>Each check returns the canonical value or throws an {@link InvalidFieldException} that names the field, the
 * value and what is accepted.
 */
final class DnsRecordRules {

    static final int MAX_ADDRESSES = 1000;
    static final int MAX_ADDRESS_LENGTH = 255;
    /** Longest TTL accepted: one week, so that a typing error cannot pin an answer in client caches for years. */
    static final long MAX_TTL_SECONDS = 604_800;

    static final String SCOPE_RULE = "global, country:XX (a two-letter country code, such as country:DE) or "
            + "region:NAME (1 to 63 lower-case letters, digits or '-', such as region:eu-west)";
    static final String TYPE_RULE = "A (a list of load-balancer addresses) or CNAME (an alias target name)";
    static final String ADDRESSES_RULE = "1 to " + MAX_ADDRESSES + " distinct load-balancer addresses for an A record, "
            + "each 1 to " + MAX_ADDRESS_LENGTH + " characters without whitespace";
    static final String TTL_RULE = "an integer number of seconds from 0 (do not cache) to " + MAX_TTL_SECONDS
            + " (one week)";

    private static final Pattern COUNTRY = Pattern.compile("[A-Z]{2}");
    private static final Pattern REGION = Pattern.compile("[a-z0-9-]{1,63}");
    private static final Pattern WHITESPACE = Pattern.compile("\\s");

    private DnsRecordRules() {
    }

    /** Returns the record with canonical name, scope and target, after checking every field. */
    static DnsRecord canonical(DnsRecord record) {
        return canonical(record.name(), record.scope(), record.type().name(), record.addresses(), record.target(),
                record.ttlSeconds(), record.version());
    }

    /**
     * Builds a canonical record from fields as a client sent them; {@code addresses}, {@code target} and
     * {@code ttlSeconds} may be null.
     *
     * @throws InvalidFieldException for the first invalid field, in the order name, scope, type, addresses, target,
     *                               ttlSeconds
     */
    static DnsRecord canonical(String name, String scope, String type, List<String> addresses, String target,
                               Long ttlSeconds, long version) {
        String canonicalName = canonicalName("name", name);
        String canonicalScope = canonicalScope(scope);
        DnsRecord.Type recordType = type(type);
        List<String> checkedAddresses = addresses(recordType, addresses);
        String canonicalTarget = target(recordType, target);
        long ttl = ttlSeconds(ttlSeconds);
        return new DnsRecord(DnsRecord.SCHEMA_VERSION, canonicalName, canonicalScope, recordType, checkedAddresses,
                canonicalTarget, ttl, version);
    }

    /** Returns the canonical form of a host name held in {@code field} (see {@link HostNames#canonical(String)}). */
    static String canonicalName(String field, String name) {
        if (name == null || name.isBlank()) {
            throw new InvalidFieldException(field, name, "is missing", HostNames.RULE);
        }
        try {
            return HostNames.canonical(name);
        } catch (IllegalArgumentException e) {
            throw new InvalidFieldException(field, name, "is not a valid host name (" + e.getMessage() + ")",
                    HostNames.RULE);
        }
    }

    /** Returns {@code global}, {@code country:XX} with the code in upper case, or {@code region:name} in lower case. */
    static String canonicalScope(String scope) {
        if (scope == null || scope.isBlank()) {
            throw new InvalidFieldException("scope", scope, "is missing", SCOPE_RULE);
        }
        String trimmed = scope.trim();
        String lower = trimmed.toLowerCase(Locale.ROOT);
        if (lower.equals(DnsRecord.GLOBAL)) {
            return DnsRecord.GLOBAL;
        }
        if (lower.startsWith("country:")) {
            String code = trimmed.substring("country:".length()).toUpperCase(Locale.ROOT);
            if (COUNTRY.matcher(code).matches()) {
                return "country:" + code;
            }
        } else if (lower.startsWith("region:")) {
            String region = lower.substring("region:".length());
            if (REGION.matcher(region).matches()) {
                return "region:" + region;
            }
        }
        throw new InvalidFieldException("scope", scope, "is not a valid scope", SCOPE_RULE);
    }

    static DnsRecord.Type type(String type) {
        if (type == null || type.isBlank()) {
            throw new InvalidFieldException("type", type, "is missing", TYPE_RULE);
        }
        try {
            return DnsRecord.Type.valueOf(type.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidFieldException("type", type, "is not a record type", TYPE_RULE);
        }
    }

    /** Returns the addresses of an A record after checking them, or an empty list for a CNAME record without any. */
    static List<String> addresses(DnsRecord.Type type, List<String> addresses) {
        List<String> addressList = addresses == null ? List.of() : addresses;
        if (type == DnsRecord.Type.CNAME) {
            if (!addressList.isEmpty()) {
                throw new InvalidFieldException("addresses", String.join(",", addressList), "must be empty for a CNAME record",
                        "no addresses for a CNAME record; set target instead");
            }
            return List.of();
        }
        if (addressList.isEmpty()) {
            throw new InvalidFieldException("addresses", addresses == null ? null : "[]",
                    addresses == null ? "is missing" : "is empty", ADDRESSES_RULE);
        }
        if (addressList.size() > MAX_ADDRESSES) {
            throw new InvalidFieldException("addresses", addressList.size() + " addresses", "has too many addresses",
                    ADDRESSES_RULE);
        }
        var seen = new HashSet<String>();
        var checked = new ArrayList<String>(addressList.size());
        for (int i = 0; i < addressList.size(); i++) {
            String address = addressList.get(i);
            String field = "addresses[" + i + "]";
            if (address == null || address.isEmpty()) {
                throw new InvalidFieldException(field, address, "is empty", ADDRESSES_RULE);
            }
            if (address.length() > MAX_ADDRESS_LENGTH || WHITESPACE.matcher(address).find()) {
                throw new InvalidFieldException(field, address, "is not a valid address", ADDRESSES_RULE);
            }
            if (!seen.add(address)) {
                throw new InvalidFieldException(field, address, "repeats an earlier address", ADDRESSES_RULE);
            }
            checked.add(address);
        }
        return checked;
    }

    /** Returns the canonical alias target of a CNAME record, or null for an A record without one. */
    static String target(DnsRecord.Type type, String target) {
        if (type == DnsRecord.Type.A) {
            if (target != null && !target.isBlank()) {
                throw new InvalidFieldException("target", target, "must be empty for an A record",
                        "no target for an A record; set addresses instead");
            }
            return null;
        }
        return canonicalName("target", target);
    }

    static long ttlSeconds(Long ttlSeconds) {
        if (ttlSeconds == null) {
            throw new InvalidFieldException("ttlSeconds", null, "is missing", TTL_RULE);
        }
        if (ttlSeconds < 0 || ttlSeconds > MAX_TTL_SECONDS) {
            throw new InvalidFieldException("ttlSeconds", ttlSeconds.toString(), "is out of range", TTL_RULE);
        }
        return ttlSeconds;
    }
}
