package dev.backbone.invalidator;

import dev.backbone.events.PurgeRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects CDN purges for one window and releases one {@link PurgeRequest} per surrogate key when the window ends, so
 * that a burst of writes to one row becomes one purge. A window opens with the first key added after a drain and
 * ends {@code windowMs} later; a window of 0 releases every key at the next {@link #isDue(long)} check.
 *
 * <p>Each request carries the commit time of the oldest change it covers, so that the commit-to-purge lag measured
 * downstream includes the time spent waiting here. Not thread-safe: the change event consumer thread owns it.
 */
final class PurgeCoalescer {

    private final long windowMs;
    private final boolean soft;
    /** Oldest commit time per surrogate key, in the order the keys were first added. */
    private final Map<String, Long> oldestCommitByKey = new LinkedHashMap<>();
    private long windowEndMs;
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

    /** Adds a purge of {@code surrogateKey} for a change committed at {@code commitAtMs}; opens a window when none is open. */
    void add(String surrogateKey, long commitAtMs, long nowMs) {
        if (oldestCommitByKey.isEmpty()) {
            windowEndMs = nowMs + windowMs;
        }
        oldestCommitByKey.merge(surrogateKey, commitAtMs, Math::min);
        added++;
    }

    boolean isEmpty() {
        return oldestCommitByKey.isEmpty();
    }

    /** Returns whether an open window has ended. */
    boolean isDue(long nowMs) {
        return !oldestCommitByKey.isEmpty() && nowMs >= windowEndMs;
    }

    /** Returns the milliseconds until the open window ends, 0 when it has ended, or -1 when no window is open. */
    long msUntilDue(long nowMs) {
        if (oldestCommitByKey.isEmpty()) {
            return -1;
        }
        return Math.max(0, windowEndMs - nowMs);
    }

    /** Returns one purge per key of the open window, requested at {@code nowMs}, and closes the window. */
    List<PurgeRequest> drain(long nowMs) {
        List<PurgeRequest> purges = new ArrayList<>(oldestCommitByKey.size());
        oldestCommitByKey.forEach((key, commitAtMs) ->
                purges.add(new PurgeRequest(PurgeRequest.SCHEMA_VERSION, key, soft, commitAtMs, nowMs)));
        oldestCommitByKey.clear();
        return purges;
    }

    /** Returns how many purges were added since this coalescer was created, before coalescing. */
    long added() {
        return added;
    }
}
