package dev.backbone.cdn;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The edge's response store: the variants of each cache key, an index from surrogate key to cache keys, and the purge
 * history that keeps a purge from being undone by an origin fetch that started before it.
 *
 * <p>Purge racing a fetch: every purge takes the next number of a purge sequence and records it per surrogate key. A
 * fetch takes a ticket, the sequence number at its start, from {@link #beginFetch()}. A purge of one of the response's
 * surrogate keys, or of everything, numbered after the ticket means the response may predate the change that caused
 * the purge. After a hard purge the response is not stored, and after a soft purge it is stored already stale. The
 * per-key history is kept only while a fetch that started before it is in flight.
 *
 * <p>Memory is bounded by {@code maxBytes}: storing beyond it evicts the least recently used cache keys, all
 * variants together. Thread-safe: every method locks the store; none of them does I/O.
 */
final class EdgeCache {

    /** The result of {@link #store}. */
    enum StoreOutcome {
        STORED,
        /** Stored already stale, because a soft purge of one of its keys happened during the fetch. */
        STORED_STALE,
        /** Not stored, because a hard purge of one of its keys happened during the fetch. */
        DISCARDED
    }

    /** The variants of one cache key, all selected by the same {@code Vary} header names. */
    private static final class Variants {
        final List<String> varyNames;
        final Map<String, CachedResponse> byVariantKey = new LinkedHashMap<>();
        long bytes;

        Variants(List<String> varyNames) {
            this.varyNames = varyNames;
        }
    }

    /** The latest purges of one surrogate key, by sequence number; 0 when none. */
    private static final class PurgeMarks {
        long lastHard;
        long lastSoft;

        long latest() {
            return Math.max(lastHard, lastSoft);
        }
    }

    private record Purge(long sequence, String surrogateKey) {
    }

    private final long maxBytes;
    private final LinkedHashMap<String, Variants> byCacheKey = new LinkedHashMap<>(1024, 0.75f, true);
    private final Map<String, Set<String>> cacheKeysBySurrogateKey = new HashMap<>();
    private final Map<String, PurgeMarks> purgeMarks = new HashMap<>();
    private final ArrayDeque<Purge> purgeHistory = new ArrayDeque<>();
    /** Tickets of fetches in flight, with how many fetches hold each. */
    private final TreeMap<Long, Integer> ticketsInFlight = new TreeMap<>();
    private long purgeSequence;
    private long lastHardPurgeAll;
    private long lastSoftPurgeAll;
    private long bytes;

    EdgeCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Returns the stored variant that matches the request, fresh or stale. */
    synchronized Optional<CachedResponse> lookup(String cacheKey, Function<String, String> requestHeader) {
        Variants variants = byCacheKey.get(cacheKey);
        if (variants == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(variants.byVariantKey.get(VariantKey.of(variants.varyNames, requestHeader)));
    }

    /** Returns the {@code Vary} header names last stored for a cache key, or an empty list when none is stored. */
    synchronized List<String> varyNames(String cacheKey) {
        Variants variants = byCacheKey.get(cacheKey);
        return variants == null ? List.of() : variants.varyNames;
    }

    /** Registers a fetch in flight and returns its ticket; call {@link #endFetch(long)} with it when the fetch ends. */
    synchronized long beginFetch() {
        ticketsInFlight.merge(purgeSequence, 1, Integer::sum);
        return purgeSequence;
    }

    synchronized void endFetch(long ticket) {
        ticketsInFlight.computeIfPresent(ticket, (key, count) -> count == 1 ? null : count - 1);
        prunePurgeHistory();
    }

    /** Returns whether anything was purged after the fetch with this ticket started. */
    synchronized boolean purgedSince(long ticket) {
        return purgeSequence > ticket;
    }

    /**
     * Stores a response fetched under {@code ticket}, unless a hard purge of one of its surrogate keys happened since.
     * A response with other {@code Vary} names than the stored variants replaces them all.
     */
    synchronized StoreOutcome store(String cacheKey, CachedResponse response, long ticket, long nowMs) {
        boolean softPurged = lastSoftPurgeAll > ticket;
        if (lastHardPurgeAll > ticket) {
            return StoreOutcome.DISCARDED;
        }
        for (String surrogateKey : response.surrogateKeys()) {
            PurgeMarks marks = purgeMarks.get(surrogateKey);
            if (marks != null && marks.lastHard > ticket) {
                return StoreOutcome.DISCARDED;
            }
            softPurged |= marks != null && marks.lastSoft > ticket;
        }
        CachedResponse stored = softPurged ? response.staleFrom(nowMs) : response;

        Variants variants = byCacheKey.get(cacheKey);
        if (variants != null && !variants.varyNames.equals(stored.varyNames())) {
            remove(cacheKey);
            variants = null;
        }
        if (variants == null) {
            variants = new Variants(stored.varyNames());
            byCacheKey.put(cacheKey, variants);
        }
        CachedResponse previous = variants.byVariantKey.put(stored.variantKey(), stored);
        if (previous != null) {
            variants.bytes -= previous.sizeBytes();
            bytes -= previous.sizeBytes();
        }
        variants.bytes += stored.sizeBytes();
        bytes += stored.sizeBytes();
        for (String surrogateKey : stored.surrogateKeys()) {
            cacheKeysBySurrogateKey.computeIfAbsent(surrogateKey, key -> new HashSet<>()).add(cacheKey);
        }
        evictBeyondLimit(cacheKey);
        return softPurged ? StoreOutcome.STORED_STALE : StoreOutcome.STORED;
    }

    /**
     * Removes every variant of one cache key, such as after a successful unsafe request to its URL. It counts as a
     * purge for coalescing, so no request waits for a fetch of that key that started earlier.
     */
    // NOTE: a fetch of this key already in flight may still store its response, because the purge-race check covers
    // surrogate keys only.
    synchronized void invalidate(String cacheKey) {
        purgeSequence++;
        remove(cacheKey);
    }

    /** Replaces one stored variant, such as after a revalidation, if the key still contains variants with its Vary names. */
    synchronized void replace(String cacheKey, CachedResponse response) {
        Variants variants = byCacheKey.get(cacheKey);
        if (variants == null || !variants.varyNames.equals(response.varyNames())) {
            return;
        }
        CachedResponse previous = variants.byVariantKey.replace(response.variantKey(), response);
        if (previous != null) {
            variants.bytes += response.sizeBytes() - previous.sizeBytes();
            bytes += response.sizeBytes() - previous.sizeBytes();
        }
    }

    /**
     * Purges every cache key tagged with {@code surrogateKey}, all variants: a hard purge removes them, a soft purge
     * makes them stale.
     *
     * @return how many cache keys were purged
     */
    synchronized int purge(String surrogateKey, boolean soft, long nowMs) {
        long sequence = ++purgeSequence;
        if (!ticketsInFlight.isEmpty()) {
            PurgeMarks marks = purgeMarks.computeIfAbsent(surrogateKey, key -> new PurgeMarks());
            if (soft) {
                marks.lastSoft = sequence;
            } else {
                marks.lastHard = sequence;
            }
            purgeHistory.addLast(new Purge(sequence, surrogateKey));
        }
        Set<String> cacheKeys = cacheKeysBySurrogateKey.get(surrogateKey);
        if (cacheKeys == null) {
            return 0;
        }
        List<String> purged = new ArrayList<>(cacheKeys);
        for (String cacheKey : purged) {
            if (soft) {
                markStale(cacheKey, nowMs);
            } else {
                remove(cacheKey);
            }
        }
        return purged.size();
    }

    /** Purges everything: a hard purge empties the store, a soft purge makes every response stale. */
    synchronized int purgeAll(boolean soft, long nowMs) {
        long sequence = ++purgeSequence;
        if (soft) {
            lastSoftPurgeAll = sequence;
        } else {
            lastHardPurgeAll = sequence;
        }
        int purged = byCacheKey.size();
        if (soft) {
            for (String cacheKey : List.copyOf(byCacheKey.keySet())) {
                markStale(cacheKey, nowMs);
            }
        } else {
            byCacheKey.clear();
            cacheKeysBySurrogateKey.clear();
            bytes = 0;
        }
        return purged;
    }

    synchronized long bytes() {
        return bytes;
    }

    synchronized int cacheKeys() {
        return byCacheKey.size();
    }

    /** Returns how many surrogate keys have a purge recorded for fetches in flight; for tests of the pruning. */
    synchronized int purgeMarks() {
        return purgeMarks.size();
    }

    private void markStale(String cacheKey, long nowMs) {
        Variants variants = byCacheKey.get(cacheKey);
        if (variants != null) {
            variants.byVariantKey.replaceAll((variantKey, response) -> response.staleFrom(nowMs));
        }
    }

    private void remove(String cacheKey) {
        Variants variants = byCacheKey.remove(cacheKey);
        if (variants == null) {
            return;
        }
        bytes -= variants.bytes;
        for (CachedResponse response : variants.byVariantKey.values()) {
            for (String surrogateKey : response.surrogateKeys()) {
                Set<String> cacheKeys = cacheKeysBySurrogateKey.get(surrogateKey);
                if (cacheKeys != null) {
                    cacheKeys.remove(cacheKey);
                    if (cacheKeys.isEmpty()) {
                        cacheKeysBySurrogateKey.remove(surrogateKey);
                    }
                }
            }
        }
    }

    private void evictBeyondLimit(String keep) {
        // Iterating the entries reads them without counting an access, which would reorder the map during iteration.
        Iterator<Map.Entry<String, Variants>> eldest = byCacheKey.entrySet().iterator();
        List<String> evicted = new ArrayList<>();
        long remaining = bytes;
        while (remaining > maxBytes && eldest.hasNext()) {
            Map.Entry<String, Variants> entry = eldest.next();
            if (entry.getKey().equals(keep)) {
                continue;
            }
            remaining -= entry.getValue().bytes;
            evicted.add(entry.getKey());
        }
        evicted.forEach(this::remove);
    }

    /** Forgets the purges that no fetch in flight started before. */
    private void prunePurgeHistory() {
        long oldestTicket = ticketsInFlight.isEmpty() ? Long.MAX_VALUE : ticketsInFlight.firstKey();
        while (!purgeHistory.isEmpty() && purgeHistory.peekFirst().sequence() <= oldestTicket) {
            Purge purge = purgeHistory.removeFirst();
            PurgeMarks marks = purgeMarks.get(purge.surrogateKey());
            if (marks != null && marks.latest() <= oldestTicket) {
                purgeMarks.remove(purge.surrogateKey());
            }
        }
    }
}
