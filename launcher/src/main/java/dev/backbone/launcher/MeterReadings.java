package dev.backbone.launcher;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Cumulative meter values read from every component registry at one instant: the raw material of a dashboard
 * snapshot, which subtracts two readings to get rates. Meters that do not exist are absent, so a panel whose meters
 * are not registered yet has no data instead of failing. Immutable after {@link #read}.
 *
 * @param nanoTime  {@link System#nanoTime()} when the reading started, for the interval between two readings
 * @param epochMs   wall-clock time of the reading
 * @param counters  cumulative counts by group, then by label; groups are the {@code GROUP_} constants
 * @param histograms cumulative latency histograms in milliseconds, by the {@code HISTOGRAM_} constants
 * @param percentiles client-side percentiles in milliseconds, by group, then by label. Micrometer computes them over
 *                   its decaying window, so they are shown as read and never subtracted
 */
record MeterReadings(long nanoTime, long epochMs, Map<String, Map<String, Double>> counters,
                     Map<String, Buckets> histograms, Map<String, Map<String, Double>> percentiles) {

    static final String INGEST_REQUESTS = "backbone.ingest.requests";
    static final String DNS_LOOKUPS = "backbone.routing.dns.lookups";
    static final String APP_REQUESTS = "backbone.app.requests";
    static final String CACHE_GETS = "backbone.cache.gets";
    static final String EVICTION_LAG = "backbone.cache.eviction.lag";
    static final String INVALIDATOR_PURGE_LAG = "backbone.invalidator.purge.lag";
    static final String EDGE_PURGE_LAG = "backbone.edge.purge.lag";
    static final String EDGE_REQUESTS = "backbone.edge.requests";

    /** Front-door requests by status class ({@code 2xx}). */
    static final String GROUP_REQUESTS = "requests";
    /** DNS lookups by result: the level that answered ({@code cache}, {@code region}, ...) or the failure. */
    static final String GROUP_DNS = "dns";
    /** Requests handled by each app server, by component name. */
    static final String GROUP_APP = "app";
    /** Cache hits by tier ({@code pinned}, {@code l1}, {@code l2}), all caches of all app servers added up. */
    static final String GROUP_CACHE_HITS = "cache.hits";
    /** Cache lookups, hits and misses, by tier. */
    static final String GROUP_CACHE_LOOKUPS = "cache.lookups";
    /** Edge requests served from the cache (hit, stale, revalidated), by region. */
    static final String GROUP_EDGE_HITS = "edge.hits";
    /** Edge requests that looked at the cache (every result except pass), by region. */
    static final String GROUP_EDGE_LOOKUPS = "edge.lookups";

    static final String HISTOGRAM_LATENCY = "latency";
    static final String HISTOGRAM_EVICTION_LAG = "eviction.lag";

    /** Commit-to-purge lag until Kafka acknowledged the purge, labels {@code p50} and {@code p99}, max over instances. */
    static final String PERCENTILES_PURGE_PUBLISHED = "purge.published";
    /** Commit-to-purge lag until an edge applied the purge, label {@code <region> p99} and {@code <region> p50}. */
    static final String PERCENTILES_PURGE_APPLIED = "purge.applied";

    /** Edge cache results that count as served from the cache. {@code miss} is the other result that looked at the cache. */
    private static final java.util.Set<String> EDGE_HIT_RESULTS = java.util.Set.of("hit", "stale", "revalidated");
    private static final String EDGE_PASS_RESULT = "pass";

    MeterReadings {
        counters = Collections.unmodifiableMap(counters);
        histograms = Collections.unmodifiableMap(histograms);
        percentiles = Collections.unmodifiableMap(percentiles);
    }

    /** Reads the dashboard's meters from {@code registries}, keyed by component name. */
    static MeterReadings read(Map<String, ? extends MeterRegistry> registries, long nanoTime, long epochMs) {
        var counters = new TreeMap<String, Map<String, Double>>();
        var histograms = new TreeMap<String, Buckets>();
        var percentiles = new TreeMap<String, Map<String, Double>>();

        for (var entry : registries.entrySet()) {
            String component = entry.getKey();
            MeterRegistry registry = entry.getValue();

            for (Meter meter : registry.find(INGEST_REQUESTS).meters()) {
                add(counters, GROUP_REQUESTS, tagOr(meter, "status", "other"), countOf(meter));
                addHistogram(histograms, HISTOGRAM_LATENCY, meter);
            }
            for (Meter meter : registry.find(DNS_LOOKUPS).meters()) {
                add(counters, GROUP_DNS, tagOr(meter, "result", "other"), countOf(meter));
            }
            for (Meter meter : registry.find(APP_REQUESTS).meters()) {
                add(counters, GROUP_APP, component, countOf(meter));
            }
            for (Meter meter : registry.find(CACHE_GETS).meters()) {
                String tier = tagOr(meter, "tier", "other");
                double count = countOf(meter);
                add(counters, GROUP_CACHE_LOOKUPS, tier, count);
                add(counters, GROUP_CACHE_HITS, tier, "hit".equals(meter.getId().getTag("result")) ? count : 0);
            }
            for (Meter meter : registry.find(EDGE_REQUESTS).meters()) {
                String result = tagOr(meter, "result", "other");
                if (result.equals(EDGE_PASS_RESULT)) {
                    continue;
                }
                String region = tagOr(meter, "region", component);
                double count = countOf(meter);
                add(counters, GROUP_EDGE_LOOKUPS, region, count);
                add(counters, GROUP_EDGE_HITS, region, EDGE_HIT_RESULTS.contains(result) ? count : 0);
            }
            for (Meter meter : registry.find(EVICTION_LAG).meters()) {
                addHistogram(histograms, HISTOGRAM_EVICTION_LAG, meter);
            }
            for (Meter meter : registry.find(INVALIDATOR_PURGE_LAG).meters()) {
                readPercentiles(meter).forEach((label, value) -> max(percentiles, PERCENTILES_PURGE_PUBLISHED, label, value));
            }
            for (Meter meter : registry.find(EDGE_PURGE_LAG).meters()) {
                String region = tagOr(meter, "region", component);
                readPercentiles(meter).forEach((label, value) -> max(percentiles, PERCENTILES_PURGE_APPLIED, region + " " + label, value));
            }
        }
        return new MeterReadings(nanoTime, epochMs, counters, histograms, percentiles);
    }

    /** Returns the count of a counter-like meter, or 0 for a meter type without one (a gauge, for example). */
    static double countOf(Meter meter) {
        if (meter instanceof Counter counter) {
            return counter.count();
        }
        if (meter instanceof FunctionCounter counter) {
            return counter.count();
        }
        if (meter instanceof Timer timer) {
            return timer.count();
        }
        if (meter instanceof FunctionTimer timer) {
            return timer.count();
        }
        if (meter instanceof DistributionSummary summary) {
            return summary.count();
        }
        return 0;
    }

    private static String tagOr(Meter meter, String key, String fallback) {
        String value = meter.getId().getTag(key);
        return value == null ? fallback : value;
    }

    private static void add(Map<String, Map<String, Double>> groups, String group, String label, double value) {
        groups.computeIfAbsent(group, g -> new TreeMap<>()).merge(label, value, Double::sum);
    }

    private static void max(Map<String, Map<String, Double>> groups, String group, String label, double value) {
        groups.computeIfAbsent(group, g -> new TreeMap<>()).merge(label, value, Math::max);
    }

    /** Adds a timer's percentile histogram to the merged one. A timer without a histogram adds nothing. */
    private static void addHistogram(Map<String, Buckets> histograms, String name, Meter meter) {
        if (!(meter instanceof Timer timer)) {
            return;
        }
        HistogramSnapshot snapshot = timer.takeSnapshot();
        if (snapshot.histogramCounts().length == 0) {
            return;
        }
        Buckets buckets = Buckets.of(snapshot.count(), snapshot.histogramCounts());
        histograms.merge(name, buckets, Buckets::plus);
    }

    /** Returns a timer's client-side percentiles in milliseconds by label ({@code p50}), or none before the first record. */
    private static Map<String, Double> readPercentiles(Meter meter) {
        if (!(meter instanceof Timer timer)) {
            return Map.of();
        }
        HistogramSnapshot snapshot = timer.takeSnapshot();
        if (snapshot.count() == 0) {
            return Map.of();
        }
        var values = new LinkedHashMap<String, Double>();
        for (ValueAtPercentile percentile : snapshot.percentileValues()) {
            values.put(percentileLabel(percentile.percentile()), percentile.value(TimeUnit.MILLISECONDS));
        }
        return values;
    }

    /** Returns {@code p50} for 0.5, {@code p99} for 0.99 and {@code p99.9} for 0.999. */
    static String percentileLabel(double percentile) {
        String digits = java.math.BigDecimal.valueOf(percentile * 100).stripTrailingZeros().toPlainString();
        return "p" + digits;
    }

    /** Returns the cumulative count of {@code label} in {@code group}, or null when no meter reported it. */
    Double counter(String group, String label) {
        Map<String, Double> labels = counters.get(group);
        return labels == null ? null : labels.get(label);
    }

    Map<String, Double> group(String group) {
        return counters.getOrDefault(group, Map.of());
    }

    Map<String, Double> percentileGroup(String group) {
        return percentiles.getOrDefault(group, Map.of());
    }

    /**
     * A cumulative histogram: the total count and, per upper bound in milliseconds, the count of values at or below
     * it. Values above the last bound count only in the total, as in Prometheus' {@code +Inf} bucket.
     */
    record Buckets(double total, TreeMap<Double, Double> cumulative) {

        static Buckets of(double total, CountAtBucket[] counts) {
            var cumulative = new TreeMap<Double, Double>();
            for (CountAtBucket bucket : counts) {
                cumulative.merge(bucket.bucket(TimeUnit.MILLISECONDS), bucket.count(), Double::sum);
            }
            return new Buckets(total, cumulative);
        }

        /** Adds two histograms bound by bound. Micrometer gives every timer with default settings the same bounds. */
        Buckets plus(Buckets other) {
            var merged = new TreeMap<>(cumulative);
            other.cumulative.forEach((bound, count) -> merged.merge(bound, count, Double::sum));
            return new Buckets(total + other.total, merged);
        }

        /** Returns the values recorded after {@code earlier}, the histogram of one time window. */
        Buckets minus(Buckets earlier) {
            var difference = new TreeMap<Double, Double>();
            cumulative.forEach((bound, count) -> difference.put(bound, count - earlier.cumulative.getOrDefault(bound, 0.0)));
            return new Buckets(total - earlier.total, difference);
        }

        /**
         * Estimates a quantile by linear interpolation inside the bucket that contains it, as Prometheus'
         * {@code histogram_quantile} does, so the page and Grafana show the same figure.
         *
         * @return the estimate in milliseconds, or null for an empty histogram; a quantile above the last bound returns
         *         the last bound
         */
        Double quantile(double q) {
            if (total <= 0 || cumulative.isEmpty()) {
                return null;
            }
            double rank = q * total;
            double lowerBound = 0;
            double countBelow = 0;
            for (var bucket : cumulative.entrySet()) {
                double upperBound = bucket.getKey();
                double count = bucket.getValue();
                if (count >= rank) {
                    double inBucket = count - countBelow;
                    double fraction = inBucket <= 0 ? 1 : (rank - countBelow) / inBucket;
                    return lowerBound + (upperBound - lowerBound) * fraction;
                }
                lowerBound = upperBound;
                countBelow = count;
            }
            return cumulative.lastKey();
        }
    }
}
