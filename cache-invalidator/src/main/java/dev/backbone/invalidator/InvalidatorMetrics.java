package dev.backbone.invalidator;

import dev.backbone.events.PurgeRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The meters of the cache invalidator, registered once. Tags are bounded: {@code table} takes the configured table
 * names (other tables count as {@code other}) and {@code outcome} the values of {@link Outcome}. Thread-safe: the maps
 * are filled in the constructor and only read afterwards.
 */
final class InvalidatorMetrics {

    /** The outcome of one consumed change event. */
    enum Outcome {
        /** Mapped to one or more invalidations. */
        INVALIDATED,
        /** Read correctly but maps to no cache key: another table, a truncate, a tombstone or a message. */
        IGNORED,
        /** Unreadable, sent to the dead-letter topic. */
        DEAD_LETTER;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    static final String CHANGES_CAPTURED = "backbone.invalidator.changes.captured";
    static final String CHANGES_CONSUMED = "backbone.invalidator.changes.consumed";
    static final String INVALIDATIONS_PUBLISHED = "backbone.invalidator.invalidations.published";
    static final String PURGES_PUBLISHED = "backbone.invalidator.purges.published";
    static final String DEAD_LETTERS = "backbone.invalidator.dead.letters";
    static final String CAPTURE_LAG = "backbone.invalidator.capture.lag";
    static final String PUBLISH_LAG = "backbone.invalidator.publish.lag";
    static final String PURGE_LAG = "backbone.invalidator.purge.lag";
    static final String PURGES_REQUESTED = "backbone.invalidator.purges.requested";
    static final String DUPLICATES = "backbone.invalidator.duplicates";
    static final String TOMBSTONES = "backbone.invalidator.tombstones";

    private final Map<String, Counter> capturedByTable = new HashMap<>();
    private final Map<Outcome, Counter> consumedByOutcome = new EnumMap<>(Outcome.class);
    private final MeterRegistry registry;
    private final Counter otherTableCaptured;
    private final Counter invalidationsPublished;
    private final Counter hardPurgesPublished;
    private final Counter softPurgesPublished;
    private final Counter purgesRequested;
    private final Counter deadLetters;
    private final Counter duplicates;
    private final Counter tombstonesWritten;
    private final Counter tombstonesSkipped;
    private final Timer captureLag;
    private final Timer publishLag;
    private final Timer purgeLag;

    InvalidatorMetrics(MeterRegistry registry, List<String> tables) {
        this.registry = registry;
        for (String table : tables) {
            capturedByTable.put(table, capturedCounter(table));
        }
        otherTableCaptured = capturedCounter("other");
        for (Outcome outcome : Outcome.values()) {
            consumedByOutcome.put(outcome, Counter.builder(CHANGES_CONSUMED)
                    .description("Change events read from backbone.db-changes, by outcome")
                    .tag("outcome", outcome.tag())
                    .register(registry));
        }
        invalidationsPublished = Counter.builder(INVALIDATIONS_PUBLISHED)
                .description("Invalidations acknowledged by Kafka on backbone.cache-invalidations")
                .register(registry);
        hardPurgesPublished = purgeCounter("hard");
        softPurgesPublished = purgeCounter("soft");
        purgesRequested = Counter.builder(PURGES_REQUESTED)
                .description("Surrogate keys queued for a CDN purge, before coalescing per window")
                .register(registry);
        duplicates = Counter.builder(DUPLICATES)
                .description("Change events processed before, replayed by Debezium or by the consumer after a restart")
                .register(registry);
        tombstonesWritten = tombstoneCounter("written");
        tombstonesSkipped = tombstoneCounter("kept.newer");
        deadLetters = Counter.builder(DEAD_LETTERS)
                .description("Unreadable change events sent to backbone.dead-letters")
                .register(registry);
        captureLag = Timer.builder(CAPTURE_LAG)
                .description("Time from the database commit to Debezium reading the change")
                .publishPercentiles(0.5, 0.99)
                .register(registry);
        publishLag = Timer.builder(PUBLISH_LAG)
                .description("Time from the database commit to Kafka acknowledging its invalidations")
                .publishPercentiles(0.5, 0.99)
                .register(registry);
        purgeLag = Timer.builder(PURGE_LAG)
                .description("Time from the oldest database commit a CDN purge covers to Kafka acknowledging the purge")
                .publishPercentiles(0.5, 0.99)
                .register(registry);
    }

    private Counter purgeCounter(String kind) {
        return Counter.builder(PURGES_PUBLISHED)
                .description("CDN purge requests acknowledged by Kafka on backbone.cdn-purges, by kind")
                .tag("kind", kind)
                .register(registry);
    }

    private Counter tombstoneCounter(String result) {
        return Counter.builder(TOMBSTONES)
                .description("Redis L2 tombstone writes, by result: written, or kept.newer when the key held a newer entry")
                .tag("result", result)
                .register(registry);
    }

    private Counter capturedCounter(String table) {
        return Counter.builder(CHANGES_CAPTURED)
                .description("Change events the embedded Debezium engine wrote to backbone.db-changes, by table")
                .tag("table", table)
                .register(registry);
    }

    void captured(String qualifiedTable) {
        capturedByTable.getOrDefault(qualifiedTable, otherTableCaptured).increment();
    }

    void consumed(Outcome outcome) {
        consumedByOutcome.get(outcome).increment();
    }

    void invalidationPublished() {
        invalidationsPublished.increment();
    }

    /** Counts a purge acknowledged at {@code acknowledgedAtMs} and records its commit-to-purge lag. */
    void purgePublished(PurgeRequest purge, long acknowledgedAtMs) {
        (purge.soft() ? softPurgesPublished : hardPurgesPublished).increment();
        purgeLag.record(Duration.ofMillis(Math.max(0, acknowledgedAtMs - purge.commitAtMs())));
    }

    void purgeRequested() {
        purgesRequested.increment();
    }

    void duplicate() {
        duplicates.increment();
    }

    void tombstoneWritten() {
        tombstonesWritten.increment();
    }

    void tombstoneSkipped() {
        tombstonesSkipped.increment();
    }

    void deadLetter() {
        deadLetters.increment();
    }

    /** Records the commit-to-capture lag. A negative lag, from clock skew between hosts, is recorded as zero. */
    void captureLag(long commitAtMs, long capturedAtMs) {
        captureLag.record(Duration.ofMillis(Math.max(0, capturedAtMs - commitAtMs)));
    }

    void publishLag(long commitAtMs, long publishedAtMs) {
        publishLag.record(Duration.ofMillis(Math.max(0, publishedAtMs - commitAtMs)));
    }
}
