package dev.backbone.routing;

import dev.backbone.events.HostNames;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.DnsRecord;
import dev.backbone.events.Json;
import dev.backbone.events.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The DNS record endpoints of the REST API: put and delete (admin only, checked by the caller) and list. Writes go to
 * {@code backbone.dns-records} and are acknowledged by all in-sync replicas before the response. The records reach
 * the global store of every instance shortly after. Thread-safe.
 */
final class DnsAdminApi {

    static final int DEFAULT_LIST_LIMIT = 1_000;
    static final int MAX_LIST_LIMIT = 10_000;
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);
    private static final StringSerializer KEY_SERIALIZER = new StringSerializer();
    private static final Logger log = LoggerFactory.getLogger(DnsAdminApi.class);

    private final Producer<byte[], byte[]> producer;
    private final Supplier<ReadOnlyKeyValueStore<String, DnsRecord>> records;
    private final Clock clock;
    private final String self;

    /**
     * @param producer an idempotent producer with {@code acks=all}; the caller closes it
     * @param records  returns the global DNS record store, or throws {@link ApiException} 503 while it is unavailable
     * @param self     this instance's {@code host:port}, reported as {@code answeredBy}
     */
    DnsAdminApi(Producer<byte[], byte[]> producer, Supplier<ReadOnlyKeyValueStore<String, DnsRecord>> records,
                Clock clock, String self) {
        this.producer = producer;
        this.records = records;
        this.clock = clock;
        this.self = self;
    }

    /**
     * Checks a record given as JSON, assigns its version and produces it. The version is one more than the version of
     * the record this instance stores under the same key, and at least the current epoch milliseconds, so that it also
     * grows when this instance has not yet read the previous write. Returns the record as stored.
     */
    ApiReply put(byte[] body) {
        JsonNode root = parseObject(body);
        DnsRecord requested;
        try {
            requested = DnsRecordRules.canonical(text(root, "name", HostNames.RULE), text(root, "scope",
                            DnsRecordRules.SCOPE_RULE), text(root, "type", DnsRecordRules.TYPE_RULE),
                    addresses(root), text(root, "target", HostNames.RULE), ttlSeconds(root), 0);
        } catch (InvalidFieldException e) {
            throw ApiException.invalidField(e);
        }

        DnsRecord previous = read(requested.key());
        long version = Math.max(previous == null ? 1 : previous.version() + 1, clock.millis());
        var record = new DnsRecord(DnsRecord.SCHEMA_VERSION, requested.name(), requested.scope(), requested.type(),
                requested.addresses(), requested.target(), requested.ttlSeconds(), version);
        write(record.key(), Topics.DNS_RECORDS.valueSerde().serializer().serialize(Topics.DNS_RECORDS.name(), record));
        log.info("Put DNS record {} version {} ({}, TTL {} s) through the admin API", record.key(), version,
                record.type() == DnsRecord.Type.A ? record.addresses().size() + " addresses" : "alias of " + record.target(),
                record.ttlSeconds());
        return ApiReply.json(record);
    }

    /** Deletes the record {@code scope/name} with a tombstone; 404 when this instance stores no such record. */
    ApiReply delete(String scopeAndName) {
        int slash = scopeAndName.indexOf('/');
        if (slash < 0) {
            throw ApiException.badRequest("path must be /api/dns/records/{scope}/{name}, such as "
                    + "/api/dns/records/global/shop.example.com; got '" + scopeAndName + "' after /api/dns/records/");
        }
        String key;
        try {
            String scope = DnsRecordRules.canonicalScope(scopeAndName.substring(0, slash));
            String name = DnsRecordRules.canonicalName("name", scopeAndName.substring(slash + 1));
            key = DnsRecord.keyOf(scope, name);
        } catch (InvalidFieldException e) {
            throw ApiException.invalidField(e);
        }
        DnsRecord existing = read(key);
        if (existing == null) {
            throw ApiException.notFound("no DNS record " + key, Map.of("key", key));
        }
        write(key, null);
        log.info("Deleted DNS record {} (was version {}) through the admin API", key, existing.version());
        var answer = new LinkedHashMap<String, Object>();
        answer.put("deleted", existing);
        answer.put("answeredBy", self);
        return ApiReply.json(answer);
    }

    /**
     * Lists records whose canonical (lower-case, punycode) name starts with {@code prefix}, optionally of one scope,
     * sorted by name and scope, at most {@code limit}.
     * NOTE: without a scope this scans the whole store, because the store is keyed by scope first. With a scope it
     * scans only the keys of that scope that start with the prefix.
     */
    ApiReply list(String prefix, String scope, String limitText) {
        String namePrefix = prefix == null ? "" : prefix.trim().toLowerCase(Locale.ROOT);
        int limit = limit(limitText);
        String scopeFilter;
        try {
            scopeFilter = scope == null || scope.isBlank() ? null : DnsRecordRules.canonicalScope(scope);
        } catch (InvalidFieldException e) {
            throw ApiException.invalidField(e);
        }

        var matches = new ArrayList<DnsRecord>();
        try {
            ReadOnlyKeyValueStore<String, DnsRecord> store = records.get();
            var iterator = scopeFilter == null ? store.all()
                    : store.prefixScan(DnsRecord.keyOf(scopeFilter, namePrefix), KEY_SERIALIZER);
            try (iterator) {
                while (iterator.hasNext()) {
                    KeyValue<String, DnsRecord> entry = iterator.next();
                    if (entry.value.name().startsWith(namePrefix)) {
                        matches.add(entry.value);
                    }
                }
            }
        } catch (InvalidStateStoreException e) {
            throw ApiException.unavailable("the DNS record store is not available yet (" + e.getMessage()
                    + "); retry shortly");
        }
        matches.sort(Comparator.comparing(DnsRecord::name).thenComparing(DnsRecord::scope));

        var answer = new LinkedHashMap<String, Object>();
        answer.put("records", matches.subList(0, Math.min(limit, matches.size())));
        answer.put("count", Math.min(limit, matches.size()));
        answer.put("truncated", matches.size() > limit);
        answer.put("answeredBy", self);
        return ApiReply.json(answer);
    }

    private DnsRecord read(String key) {
        try {
            return records.get().get(key);
        } catch (InvalidStateStoreException e) {
            throw ApiException.unavailable("the DNS record store is not available yet (" + e.getMessage()
                    + "); retry shortly");
        }
    }

    private void write(String key, byte[] value) {
        var record = new ProducerRecord<>(Topics.DNS_RECORDS.name(), key.getBytes(StandardCharsets.UTF_8), value);
        try {
            producer.send(record).get(WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("interrupted while writing DNS record " + key);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            log.warn("Cannot write DNS record {} to {}: {}", key, Topics.DNS_RECORDS.name(), cause.toString());
            throw ApiException.unavailable("cannot write DNS record " + key + " to " + Topics.DNS_RECORDS.name()
                    + " within " + WRITE_TIMEOUT.toSeconds() + " s: " + cause.getMessage());
        }
    }

    private static int limit(String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT_LIST_LIMIT;
        }
        String accepted = "an integer from 1 to " + MAX_LIST_LIMIT;
        try {
            int limit = Integer.parseInt(text.trim());
            if (limit >= 1 && limit <= MAX_LIST_LIMIT) {
                return limit;
            }
            throw ApiException.invalidField(new InvalidFieldException("limit", text, "is out of range", accepted));
        } catch (NumberFormatException e) {
            throw ApiException.invalidField(new InvalidFieldException("limit", text, "is not an integer", accepted));
        }
    }

    // ---- JSON body ----

    private static JsonNode parseObject(byte[] body) {
        if (body.length == 0) {
            throw ApiException.badRequest("request body is empty; send a JSON object such as {\"name\": "
                    + "\"shop.example.com\", \"scope\": \"global\", \"type\": \"A\", \"addresses\": [\"lb-1\"], "
                    + "\"ttlSeconds\": 60}");
        }
        JsonNode root;
        try {
            root = Json.mapper().readTree(body);
        } catch (JsonProcessingException e) {
            var location = e.getLocation();
            String where = location == null ? "" : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
            throw ApiException.badRequest("request body is not valid JSON" + where + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.badRequest("cannot read the request body: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw ApiException.badRequest("request body must be a JSON object with the fields name, scope, type, "
                    + "addresses or target, and ttlSeconds; got " + (root == null ? "nothing" : root.getNodeType()));
        }
        return root;
    }

    private static String text(JsonNode root, String field, String accepted) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw ApiException.invalidField(new InvalidFieldException(field, node.toString(), "is not a string", accepted));
        }
        return node.textValue();
    }

    private static List<String> addresses(JsonNode root) {
        JsonNode node = root.get("addresses");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isArray()) {
            throw ApiException.invalidField(new InvalidFieldException("addresses", node.toString(),
                    "is not an array of strings", DnsRecordRules.ADDRESSES_RULE));
        }
        var addresses = new ArrayList<String>(node.size());
        for (int i = 0; i < node.size(); i++) {
            JsonNode item = node.get(i);
            if (!item.isTextual()) {
                throw ApiException.invalidField(new InvalidFieldException("addresses[" + i + "]", item.toString(),
                        "is not a string", DnsRecordRules.ADDRESSES_RULE));
            }
            addresses.add(item.textValue());
        }
        return addresses;
    }

    private static Long ttlSeconds(JsonNode root) {
        JsonNode node = root.get("ttlSeconds");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
            throw ApiException.invalidField(new InvalidFieldException("ttlSeconds", node.toString(), "is not an integer",
                    DnsRecordRules.TTL_RULE));
        }
        return node.longValue();
    }
}
