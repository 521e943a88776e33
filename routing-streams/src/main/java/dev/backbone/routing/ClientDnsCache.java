package dev.backbone.routing;

import java.util.ArrayList;
import java.util.HexFormat;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The DNS caches of all clients of one task, in two key-value stores: the entries, keyed by client id and name, and an
 * expiry index keyed by expiry time, client id and name. Each client's cache contains at most a configured number of
 * names, so a new name evicts that client's entry closest to expiry. Finding that entry scans only the client's own
 * entries, by key prefix. The purge reads the index in time order and stops at the first entry still fresh, so it
 * costs the expired entries only, not the whole store.
 *
 * <p>A cached answer outlives a change or deletion of its record until it expires: as in DNS, an answer once given
 * cannot be recalled, and the TTL bounds how long it is served.
 *
 * <p>Not thread-safe, because a task's stores are used by its stream thread only.
 */
final class ClientDnsCache {

    /** Separates client id and name in a store key. Host names never contain it, so a client's keys share a prefix. */
    static final char KEY_SEPARATOR = '\u001f';

    private static final StringSerializer PREFIX_SERIALIZER = new StringSerializer();
    private static final HexFormat HEX = HexFormat.of();

    private final KeyValueStore<String, CachedAnswer> entries;
    private final KeyValueStore<String, String> expiryIndex;
    private final int maxEntriesPerClient;

    /**
     * @param entries     answers by {@link #keyOf(String, String)}
     * @param expiryIndex entry keys by {@link #indexKeyOf(long, String)}, so that keys sort by expiry time
     */
    ClientDnsCache(KeyValueStore<String, CachedAnswer> entries, KeyValueStore<String, String> expiryIndex,
                   int maxEntriesPerClient) {
        this.entries = entries;
        this.expiryIndex = expiryIndex;
        this.maxEntriesPerClient = maxEntriesPerClient;
    }

    static String keyOf(String clientId, String name) {
        return clientId + KEY_SEPARATOR + name;
    }

    /**
     * Returns the index key of an entry: the expiry time as 16 hexadecimal digits, so that the byte order of keys is
     * the order of expiry times, then the entry key.
     */
    static String indexKeyOf(long expiresAtMs, String entryKey) {
        return HEX.toHexDigits(Math.max(0, expiresAtMs)) + KEY_SEPARATOR + entryKey;
    }

    /** Returns the client's unexpired answer for a name, or null. */
    CachedAnswer get(String clientId, String name, long nowMs) {
        CachedAnswer answer = entries.get(keyOf(clientId, name));
        return answer != null && answer.isFresh(nowMs) ? answer : null;
    }

    /** Stores an answer, first evicting the client's entry closest to expiry when the client is at its limit. */
    void put(String clientId, CachedAnswer answer) {
        String key = keyOf(clientId, answer.name());
        CachedAnswer previous = entries.get(key);
        if (previous != null) {
            expiryIndex.delete(indexKeyOf(previous.expiresAtMs(), key));
        } else {
            evictIfFull(clientId);
        }
        entries.put(key, answer);
        expiryIndex.put(indexKeyOf(answer.expiresAtMs(), key), key);
    }

    private void evictIfFull(String clientId) {
        int count = 0;
        KeyValue<String, CachedAnswer> soonest = null;
        try (var clientEntries = entries.prefixScan(clientId + KEY_SEPARATOR, PREFIX_SERIALIZER)) {
            while (clientEntries.hasNext()) {
                KeyValue<String, CachedAnswer> entry = clientEntries.next();
                count++;
                if (soonest == null || entry.value.expiresAtMs() < soonest.value.expiresAtMs()) {
                    soonest = entry;
                }
            }
        }
        if (count >= maxEntriesPerClient && soonest != null) {
            remove(soonest.key, soonest.value);
        }
    }

    /**
     * Deletes every entry expired at {@code nowMs} and returns how many.
     * NOTE: an entry whose index entry was lost (a crash between the writes to the two stores, under at-least-once
     * processing) is never purged; it is still ignored once expired and replaced by the next answer for its name.
     */
    int purgeExpired(long nowMs) {
        var expired = new ArrayList<KeyValue<String, String>>();
        try (var byExpiry = expiryIndex.all()) {
            while (byExpiry.hasNext()) {
                KeyValue<String, String> indexEntry = byExpiry.next();
                if (expiryOf(indexEntry.key) > nowMs) {
                    break;
                }
                expired.add(indexEntry);
            }
        }
        int removed = 0;
        for (KeyValue<String, String> indexEntry : expired) {
            expiryIndex.delete(indexEntry.key);
            CachedAnswer answer = entries.get(indexEntry.value);
            // A replaced entry has an index entry of its own; delete only the answer this index entry points at.
            if (answer != null && !answer.isFresh(nowMs)) {
                entries.delete(indexEntry.value);
                removed++;
            }
        }
        return removed;
    }

    /** Returns the number of entries, approximately (see {@link KeyValueStore#approximateNumEntries()}). */
    long approximateSize() {
        return entries.approximateNumEntries();
    }

    private void remove(String key, CachedAnswer answer) {
        entries.delete(key);
        expiryIndex.delete(indexKeyOf(answer.expiresAtMs(), key));
    }

    private static long expiryOf(String indexKey) {
        return HexFormat.fromHexDigitsToLong(indexKey, 0, 16);
    }
}
