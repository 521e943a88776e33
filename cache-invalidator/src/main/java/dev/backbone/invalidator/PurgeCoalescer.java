package dev.backbone.invalidator;

import dev.backbone.events.PurgeRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * Coalesces CDN purges so that each surrogate key is purged at most once per window. The first change of a key that
 * was not purged within the last {@code windowMs} is released at once; changes that follow within the window wait
 * and are released together, as one purge, when the window since the key's last purge ends. A burst of writes to one
 * row therefore becomes one purge now and one at the end of the window, and an isolated write waits for nothing. A
 * window of 0 releases every key at the next {@link #isDue(long)} check.
 *
 * <p>Each request carries the commit time of the oldest change it covers, so that the commit-to-purge lag measured
 * downstream includes the time spent waiting here. The coalescer also remembers the lowest offset, per partition, of
 * the change events whose purges still wait, so that the consumer commits no offset past a purge not yet published.
 * Not thread-safe: the change event consumer thread owns it.
 */
final class PurgeCoalescer {

    /** A purge waiting to be released. */
    private static final class Waiting {
        long oldestCommitAtMs;
        final long dueAtMs;
        /** The lowest offset per partition of the change events this purge covers. */
        final Map<TopicPartition, Long> lowestOffsets = new HashMap<>(2);

        Waiting(long oldestCommitAtMs, long dueAtMs) {
            this.oldestCommitAtMs = oldestCommitAtMs;
            this.dueAtMs = dueAtMs;
        }
    }

    private final long windowMs;
    private final boolean soft;
    /** Purges waiting to be released, in the order their keys were first added. */
    private final Map<String, Waiting> waiting = new LinkedHashMap<>();
    /** When each key was last released, oldest first; keys released more than a window ago are dropped. */
    private final LinkedHashMap<String, Long> releasedAt = new LinkedHashMap<>();
    private long added;

    /**
     * @param windowMs the window length in milliseconds, at least 0
     * @param soft     whether released purges are soft (mark stale) rather than hard (remove)
     */
    PurgeCoalescer(long windowMs, boolean soft) {
        if (windowMs < 0) {
            throw new IllegalArgumentException("windowMs must be >= 0, got " + windowMs);
        }
        this.windowMs = windowMs;
        this.soft = soft;
    }

    /** Adds a purge of {@code surrogateKey} for a change committed at {@code commitAtMs}, read from no partition. */
    void add(String surrogateKey, long commitAtMs, long nowMs) {
        add(surrogateKey, commitAtMs, nowMs, null, -1);
    }

    /**
     * Adds a purge of {@code surrogateKey} for a change committed at {@code commitAtMs}, read at {@code offset} of
     * {@code partition} (or {@code null}). It is due at once when the key was not released within the last window,
     * otherwise when that window ends.
     */
    void add(String surrogateKey, long commitAtMs, long nowMs, TopicPartition partition, long offset) {
        forgetReleasesBefore(nowMs - windowMs);
        Waiting purge = waiting.get(surrogateKey);
        if (purge == null) {
            Long lastReleasedAt = releasedAt.get(surrogateKey);
            long dueAtMs = lastReleasedAt == null ? nowMs : Math.max(nowMs, lastReleasedAt + windowMs);
            purge = new Waiting(commitAtMs, dueAtMs);
            waiting.put(surrogateKey, purge);
        } else {
            purge.oldestCommitAtMs = Math.min(purge.oldestCommitAtMs, commitAtMs);
        }
        if (partition != null) {
            purge.lowestOffsets.merge(partition, offset, Math::min);
        }
        added++;
    }

    boolean isEmpty() {
        return waiting.isEmpty();
    }

    /** Returns whether a waiting purge is due. */
    boolean isDue(long nowMs) {
        return msUntilDue(nowMs) == 0;
    }

    /** Returns the milliseconds until the next waiting purge is due, 0 when one is due, or -1 when none waits. */
    long msUntilDue(long nowMs) {
        if (waiting.isEmpty()) {
            return -1;
        }
        long earliest = Long.MAX_VALUE;
        for (Waiting purge : waiting.values()) {
            earliest = Math.min(earliest, purge.dueAtMs);
        }
        return Math.max(0, earliest - nowMs);
    }

    /** Returns one purge per key that is due at {@code nowMs}, requested at {@code nowMs}; the others keep waiting. */
    List<PurgeRequest> drain(long nowMs) {
        return release(nowMs, false);
    }

    /** Returns one purge per waiting key, due or not, for a consumer that stops or gives its partitions away. */
    List<PurgeRequest> drainAll(long nowMs) {
        return release(nowMs, true);
    }

    private List<PurgeRequest> release(long nowMs, boolean all) {
        List<PurgeRequest> purges = new ArrayList<>();
        for (Iterator<Map.Entry<String, Waiting>> it = waiting.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Waiting> entry = it.next();
            Waiting purge = entry.getValue();
            if (all || purge.dueAtMs <= nowMs) {
                purges.add(new PurgeRequest(PurgeRequest.SCHEMA_VERSION, entry.getKey(), soft, purge.oldestCommitAtMs, nowMs));
                it.remove();
                releasedAt.remove(entry.getKey());
                releasedAt.put(entry.getKey(), nowMs);
            }
        }
        return purges;
    }

    /**
     * Returns the lowest offset of {@code partition} whose change still has a purge waiting, or
     * {@link Long#MAX_VALUE} when none waits: the consumer may commit up to that offset and no further.
     */
    long lowestWaitingOffset(TopicPartition partition) {
        long lowest = Long.MAX_VALUE;
        for (Waiting purge : waiting.values()) {
            Long offset = purge.lowestOffsets.get(partition);
            if (offset != null) {
                lowest = Math.min(lowest, offset);
            }
        }
        return lowest;
    }

    /** Returns how many purges were added since this coalescer was created, before coalescing. */
    long added() {
        return added;
    }

    private void forgetReleasesBefore(long thresholdMs) {
        for (Iterator<Long> it = releasedAt.values().iterator(); it.hasNext(); ) {
            if (it.next() > thresholdMs) {
                return;
            }
            it.remove();
        }
    }
}
