package dev.backbone.cdn;

import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Applies purges from Kafka and from the admin endpoint to the cache, counting them by kind and source. Thread-safe. */
final class Purger {

    /** The source of a purge, a metric tag. */
    enum Source {
        KAFKA("kafka"), ADMIN("admin");

        final String tag;

        Source(String tag) {
            this.tag = tag;
        }
    }

    /** The surrogate key of {@link dev.backbone.events.PurgeRequest} that purges everything. */
    static final String ALL = "*";

    private static final Logger log = LoggerFactory.getLogger(Purger.class);

    private final EdgeCache cache;
    private final EdgeMetrics metrics;
    private final Clock clock;

    Purger(EdgeCache cache, EdgeMetrics metrics, Clock clock) {
        this.cache = cache;
        this.metrics = metrics;
        this.clock = clock;
    }

    /**
     * Purges every cache key tagged with {@code surrogateKey}, or everything for {@value #ALL}.
     *
     * @return how many cache keys were purged
     */
    int purge(String surrogateKey, boolean soft, Source source) {
        long nowMs = clock.millis();
        if (ALL.equals(surrogateKey)) {
            int purged = cache.purgeAll(soft, nowMs);
            metrics.purge("all", source.tag);
            log.info("Purged everything ({} cache keys, {}) on request from {}", purged, soft ? "soft" : "hard", source.tag);
            return purged;
        }
        int purged = cache.purge(surrogateKey, soft, nowMs);
        metrics.purge(soft ? "soft" : "hard", source.tag);
        return purged;
    }
}
