package dev.backbone.routing;

import dev.backbone.events.DnsRecord;
import dev.backbone.events.Topics;

/**
 * Keeps the global DNS record store, keyed by {@code scope/canonical name}, in step with {@code backbone.dns-records}.
 * Every record is checked with {@link DnsRecordRules}, the same rules the admin API applies; a record that breaks them
 * is dead-lettered and leaves the stored record of its key unchanged.
 *
 * <p>NOTE: once compaction removes the valid record behind a rejected one, an instance that rebuilds its store has no
 * record for that key, while running instances keep the old one. Correct such a key by writing a valid record.
 */
final class DnsRecordsUpdater extends GlobalRecordUpdater<DnsRecord> {

    DnsRecordsUpdater(String storeName, DeadLetterSink deadLetters, String consumerName, RoutingMetrics metrics) {
        super(storeName, Topics.jsonSerde(Topics.DNS_RECORDS), deadLetters, consumerName, metrics);
    }

    /** Returns {@code scope/name} with the scope and the name canonical, as {@link DnsRecord#keyOf} spells it. */
    @Override
    String canonicalKey(String topicKey) {
        int slash = topicKey.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("record key '" + topicKey
                    + "' is not of the form scope/name, such as global/shop.example.com");
        }
        try {
            String scope = DnsRecordRules.canonicalScope(topicKey.substring(0, slash));
            return DnsRecord.keyOf(scope, DnsRecordRules.canonicalName("name", topicKey.substring(slash + 1)));
        } catch (InvalidFieldException e) {
            throw new IllegalArgumentException("record key '" + topicKey + "' is invalid: " + e.getMessage(), e);
        }
    }

    /** Returns the canonical record after checking every field and that it matches its key. */
    @Override
    DnsRecord checked(String canonicalKey, DnsRecord record) {
        DnsRecord canonical = DnsRecordRules.canonical(record);
        if (!canonical.key().equals(canonicalKey)) {
            throw new IllegalArgumentException("record key '" + canonicalKey
                    + "' does not match the record's scope and name '" + canonical.key() + "'");
        }
        return canonical;
    }
}
