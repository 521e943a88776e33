package dev.backbone.routing;

import java.util.ArrayList;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The DNS caches of all clients of one task, in one key-value store keyed by client id and name. Each client holds at
 * most a configured number of names; a new name then evicts the entry closest to expiry. Not thread-safe: a task's
 * store is used by its stream thread only.
 */
final class ClientDnsCache {

    /** Separates client id and name in a store key. Host names never contain it, so a client's keys share a prefix. */
    static final char KEY_SEPARATOR = '\u001f';

    private static final StringSerializer PREFIX_SERIALIZER = new StringSerializer();

    private final KeyValueStore<String, CachedAnswer> store;
    private final int maxEntriesPerClient;

    ClientDnsCache(KeyValueStore<String, CachedAnswer> store, int maxEntriesPerClient) {
        this.store = store;
        this.maxEntriesPerClient = maxEntriesPerClient;
    }

    static String keyOf(String clientId, String name) {
        return clientId + KEY_SEPARATOR + name;
    }

    /** Returns the client's unexpired answer for a name, or null. */
    CachedAnswer get(String clientId, String name, long nowMs) {
        CachedAnswer answer = store.get(keyOf(clientId, name));
        return answer != null && answer.isFresh(nowMs) ? answer : null;
    }

    /** Stores an answer, first evicting the client's entry closest to expiry when the client is at its limit. */
    void put(String clientId, CachedAnswer answer) {
        String key = keyOf(clientId, answer.name());
        if (store.get(key) == null) {
            evictIfFull(clientId);
        }
        store.put(key, answer);
    }

    private void evictIfFull(String clientId) {
        int count = 0;
        String soonestKey = null;
        long soonestExpiry = Long.MAX_VALUE;
        try (var entries = store.prefixScan(clientId + KEY_SEPARATOR, PREFIX_SERIALIZER)) {
            while (entries.hasNext()) {
                KeyValue<String, CachedAnswer> entry = entries.next();
                count++;
                if (entry.value.expiresAtMs() < soonestExpiry) {
                    soonestExpiry = entry.value.expiresAtMs();
                    soonestKey = entry.key;
                }
            }
        }
        if (count >= maxEntriesPerClient && soonestKey != null) {
            store.delete(soonestKey);
        }
    }

    /**
     * Deletes every expired entry and returns how many.
     * NOTE: scans the whole store; an index by expiry time would make this proportional to the expired entries.
     */
    int purgeExpired(long nowMs) {
        var expired = new ArrayList<String>();
        try (var entries = store.all()) {
            while (entries.hasNext()) {
                KeyValue<String, CachedAnswer> entry = entries.next();
                if (!entry.value.isFresh(nowMs)) {
                    expired.add(entry.key);
                }
            }
        }
        expired.forEach(store::delete);
        return expired.size();
    }
}
