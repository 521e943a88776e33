package dev.backbone.invalidator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The meters of the cache invalidator, registered once. Tags are bounded: {@code table} takes the configured table
 * names and {@code outcome} the values of {@link Outcome}.
 */
final class InvalidatorMetrics {

    /** What happened to one consumed change event. */
    enum Outcome {
        /** Mapped to one or more invalidations. */
        INVALIDATED,
        /** Read correctly but maps to no cache key: another table, a truncate, a tombstone or a message. */
        IGNORED,
        /** Unreadable, sent to the dead-letter topic. */
        DEAD_LETTER;

        String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static final String CHANGES_CAPTURED = "backbone.invalidator.changes.captured";
    static final String CHANGES_CONSUMED = "backbone.invalidator.changes.consumed";
    static final String INVALIDATIONS_PUBLISHED = "backbone.invalidator.invalidations.published";
    static final String PURGES_PUBLISHED = "backbone.invalidator.purges.published";
    static final String DEAD_LETTERS = "backbone.invalidator.dead.letters";
    static final String CAPTURE_LAG = "backbone.invalidator.capture.lag";
    static final String PUBLISH_LAG = "backbone.invalidator.publish.lag";

    private final Map<String, Counter> capturedByTable = new ConcurrentHashMap<>();
    private final Map<Outcome, Counter> consumedByOutcome = new ConcurrentHashMap<>();
    private final MeterRegistry registry;
    private final Counter otherTableCaptured;
    private final Counter invalidationsPublished;
    private final Counter purgesPublished;
    private final Counter deadLetters;
    private final Timer captureLag;
    private final Timer publishLag;

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
        purgesPublished = Counter.builder(PURGES_PUBLISHED)
                .description("CDN purge requests acknowledged by Kafka on backbone.cdn-purges")
                .register(registry);
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

    void purgePublished() {
        purgesPublished.increment();
    }

    void deadLetter() {
        deadLetters.increment();
    }

    /** Records the commit-to-capture lag; negative values from clock skew between hosts are recorded as zero. */
    void captureLag(long commitAtMs, long capturedAtMs) {
        captureLag.record(Duration.ofMillis(Math.max(0, capturedAtMs - commitAtMs)));
    }

    void publishLag(long commitAtMs, long publishedAtMs) {
        publishLag.record(Duration.ofMillis(Math.max(0, publishedAtMs - commitAtMs)));
    }
}
