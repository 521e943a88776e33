package dev.backbone.invalidator;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Remembers the identities ({@link DatabaseChange#changeId()}) of the most recent change events, so that a change
 * event seen again counts as a duplicate. Duplicates come from at-least-once delivery: Debezium replays the changes
 * captured after its last stored offset, and a consumer replays the records after its last committed offset.
 * Both are harmless because invalidations and purges are idempotent; they are counted so that a replay is visible.
 *
 * <p>The memory keeps at most {@code capacity} identities and drops the oldest first. Not thread-safe.
 */
final class DuplicateDetector {

    private final Map<String, Boolean> recent;

    DuplicateDetector(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.recent = new LinkedHashMap<>(Math.min(capacity, 1 << 16), 0.75f, false) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    /** Records a change and returns whether it was seen before. A change without identity is never a duplicate. */
    boolean seenBefore(DatabaseChange change) {
        String id = change.changeId();
        return id != null && recent.put(id, Boolean.TRUE) != null;
    }

    /** Records a change processed earlier, such as one read back from before the committed offset at start-up. */
    void remember(DatabaseChange change) {
        String id = change.changeId();
        if (id != null) {
            recent.put(id, Boolean.TRUE);
        }
    }

    int size() {
        return recent.size();
    }
}
