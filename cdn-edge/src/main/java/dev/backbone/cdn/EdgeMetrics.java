package dev.backbone.cdn;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;

/**
 * The meters of one edge, registered once with the tag {@code region}. Other tags are bounded: {@code result} takes
 * the values of {@link CacheResult}, {@code kind} {@code hard}, {@code soft} or {@code all}, {@code source}
 * {@code kafka} or {@code admin}, and {@code outcome} the origin outcomes below. Thread-safe.
 */
final class EdgeMetrics {

    static final String REQUESTS = "backbone.edge.requests";
    static final String ORIGIN_FETCHES = "backbone.edge.origin.fetches";
    static final String PURGES = "backbone.edge.purges";
    static final String PURGE_LAG = "backbone.edge.purge.lag";
    static final String FETCHES_DISCARDED = "backbone.edge.fetches.discarded";
    static final String CACHE_BYTES = "backbone.edge.cache.bytes";
    static final String CACHE_KEYS = "backbone.edge.cache.keys";
    /** Lags above one hour are recorded as one hour in {@link #purgeLagHistogram()}. */
    static final long MAX_TRACKED_LAG_MS = TimeUnit.HOURS.toMillis(1);

    private final Map<CacheResult, Counter> requests = new EnumMap<>(CacheResult.class);
    private final Map<String, Counter> originFetches = new HashMap<>();
    private final Map<String, Counter> purges = new HashMap<>();
    private final Counter fetchesDiscarded;
    private final Timer purgeLag;
    /** The same lags as {@link #purgeLag}, kept whole so that a caller can subtract an earlier copy (a warm-up). */
    private final Histogram purgeLagMs = new SynchronizedHistogram(MAX_TRACKED_LAG_MS, 3);

    EdgeMetrics(MeterRegistry registry, String region, EdgeCache cache) {
        for (CacheResult result : CacheResult.values()) {
            requests.put(result, Counter.builder(REQUESTS)
                    .description("Client requests answered by the edge, by cache result")
                    .tags("region", region, "result", result.tag())
                    .register(registry));
        }
        for (String outcome : new String[] {"ok", "server.error", "timeout", "unreachable", "too.large", "failed"}) {
            originFetches.put(outcome, Counter.builder(ORIGIN_FETCHES)
                    .description("Requests the edge sent to the origin, by outcome")
                    .tags("region", region, "outcome", outcome)
                    .register(registry));
        }
        for (String kind : new String[] {"hard", "soft", "all"}) {
            for (String source : new String[] {"kafka", "admin"}) {
                purges.put(kind + "/" + source, Counter.builder(PURGES)
                        .description("Purges applied, by kind and source")
                        .tags("region", region, "kind", kind, "source", source)
                        .register(registry));
            }
        }
        fetchesDiscarded = Counter.builder(FETCHES_DISCARDED)
                .description("Origin responses not stored because a hard purge of their keys happened during the fetch")
                .tag("region", region)
                .register(registry);
        purgeLag = Timer.builder(PURGE_LAG)
                .description("Time from the oldest database commit a purge covers to this edge applying it")
                .tag("region", region)
                .publishPercentiles(0.5, 0.99, 0.999)
                .register(registry);
        Gauge.builder(CACHE_BYTES, cache, EdgeCache::bytes)
                .description("Estimated memory held by cached responses")
                .baseUnit("bytes")
                .tag("region", region)
                .register(registry);
        Gauge.builder(CACHE_KEYS, cache, EdgeCache::cacheKeys)
                .description("Cache keys stored, each with one or more variants")
                .tag("region", region)
                .register(registry);
    }

    void request(CacheResult result) {
        requests.get(result).increment();
    }

    void originFetch(int status) {
        originFetches.get(status >= 500 ? "server.error" : "ok").increment();
    }

    void originFailure(OriginClient.OriginException.Kind kind) {
        originFetches.get(kind.name().toLowerCase(Locale.ROOT).replace('_', '.')).increment();
    }

    void fetchDiscarded() {
        fetchesDiscarded.increment();
    }

    /** Counts a purge; {@code kind} is hard, soft or all, {@code source} kafka or admin. */
    void purge(String kind, String source) {
        purges.get(kind + "/" + source).increment();
    }

    /** Records the commit-to-purge lag; a negative lag, from clock skew between hosts, is recorded as zero. */
    void purgeLag(long commitAtMs, long appliedAtMs) {
        long lagMs = Math.max(0, appliedAtMs - commitAtMs);
        purgeLag.record(Duration.ofMillis(lagMs));
        purgeLagMs.recordValue(Math.min(lagMs, MAX_TRACKED_LAG_MS));
    }

    /** Returns a copy of every commit-to-purge lag recorded so far, in milliseconds. */
    Histogram purgeLagHistogram() {
        return purgeLagMs.copy();
    }
}
