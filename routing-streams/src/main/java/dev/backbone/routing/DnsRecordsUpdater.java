package dev.backbone.routing;

import dev.backbone.events.DnsRecord;
import dev.backbone.events.Topics;
import java.util.Locale;
import java.util.regex.Pattern;

/** Keeps the global DNS record store, keyed by {@code scope/canonical name}, in step with {@code backbone.dns-records}. */
final class DnsRecordsUpdater extends GlobalRecordUpdater<DnsRecord> {

    private static final Pattern SCOPE = Pattern.compile("global|country:[a-z]{2}|region:[a-z0-9][a-z0-9-]*");

    DnsRecordsUpdater(String storeName, DeadLetterSink deadLetters, String consumerName, RoutingMetrics metrics) {
        super(storeName, Topics.jsonSerde(Topics.DNS_RECORDS), deadLetters, consumerName, metrics);
    }

    /** Returns {@code scope/name} with the scope in lower case and the name canonical. */
    @Override
    String canonicalKey(String topicKey) {
        int slash = topicKey.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("record key '" + topicKey + "' is not of the form scope/name, such as global/shop.example.com");
        }
        String scope = topicKey.substring(0, slash).trim().toLowerCase(Locale.ROOT);
        if (!SCOPE.matcher(scope).matches()) {
            throw new IllegalArgumentException("record key '" + topicKey + "' has an invalid scope '" + scope
                    + "'; accepted: global, country:XX (ISO 3166 code) or region:NAME");
        }
        return DnsRecord.keyOf(scope, HostNames.canonical(topicKey.substring(slash + 1)));
    }

    /** Returns the record with canonical name, scope and alias target, after checking that it matches its key. */
    @Override
    DnsRecord checked(String canonicalKey, DnsRecord record) {
        String name = HostNames.canonical(record.name());
        String recordKey = DnsRecord.keyOf(record.scope().trim(), name);
        if (!recordKey.equals(canonicalKey)) {
            throw new IllegalArgumentException("record key '" + canonicalKey + "' does not match the record's scope and name '"
                    + recordKey + "'");
        }
        String target = record.type() == DnsRecord.Type.CNAME ? HostNames.canonical(record.target()) : null;
        return new DnsRecord(record.schemaVersion(), name, record.scope().trim().toLowerCase(Locale.ROOT), record.type(),
                record.addresses(), target, record.ttlSeconds(), record.version());
    }
}
