package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Dashboard figures computed from two meter readings, on real Prometheus registries without a stack. */
class DashboardSnapshotTest {

    private static final long SECOND = 1_000_000_000L;

    private final PrometheusMeterRegistry ingest = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final PrometheusMeterRegistry app = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final PrometheusMeterRegistry edge = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, PrometheusMeterRegistry> registries = Map.of("request-ingest", ingest, "app-1", app, "cdn-edge-us-east", edge);

    private Timer ingestTimer(String status) {
        return Timer.builder(MeterReadings.INGEST_REQUESTS).tag("status", status).publishPercentileHistogram().register(ingest);
    }

    private Counter counter(PrometheusMeterRegistry registry, String name, String... tags) {
        return Counter.builder(name).tags(tags).register(registry);
    }

    private JsonNode snapshot(MeterReadings previous, MeterReadings latest) {
        return DashboardSnapshot.of(previous, previous, latest,
                List.of(new DashboardSampler.ServerHealth("app-1", true, "UP")), Json.mapper());
    }

    @Test
    void firstReadingHasNoRates() {
        ingestTimer("2xx").record(Duration.ofMillis(5));

        JsonNode snapshot = snapshot(null, MeterReadings.read(registries, 0, 1_000));

        assertThat(snapshot.get("intervalSeconds").isNull()).isTrue();
        assertThat(snapshot.get("requests").get("perSecond").isNull()).isTrue();
        assertThat(snapshot.get("latencyMs").get("p50").isNull()).isTrue();
        assertThat(snapshot.get("appServers").get(0).get("requestsPerSecond").isNull()).isTrue();
    }

    @Test
    void requestRateIsCounterDifferencePerSecond() {
        Timer ok = ingestTimer("2xx");
        Timer notFound = ingestTimer("4xx");
        ok.record(Duration.ofMillis(5));
        MeterReadings before = MeterReadings.read(registries, 0, 1_000);
        for (int i = 0; i < 30; i++) {
            ok.record(Duration.ofMillis(5));
        }
        for (int i = 0; i < 10; i++) {
            notFound.record(Duration.ofMillis(5));
        }

        JsonNode snapshot = snapshot(before, MeterReadings.read(registries, 2 * SECOND, 3_000));

        assertThat(snapshot.get("intervalSeconds").asDouble()).isEqualTo(2.0);
        assertThat(snapshot.get("requests").get("perSecond").asDouble()).isEqualTo(20.0);
        assertThat(snapshot.get("requests").get("byStatus").get("2xx").asDouble()).isEqualTo(15.0);
        assertThat(snapshot.get("requests").get("byStatus").get("4xx").asDouble()).isEqualTo(5.0);
    }

    @Test
    void rateLeavesOutMeterRegisteredInWindow() {
        ingestTimer("2xx").record(Duration.ofMillis(5));
        MeterReadings before = MeterReadings.read(registries, 0, 1_000);
        ingestTimer("5xx").record(Duration.ofMillis(5));

        JsonNode byStatus = snapshot(before, MeterReadings.read(registries, SECOND, 2_000)).get("requests").get("byStatus");

        assertThat(byStatus.has("2xx")).isTrue();
        assertThat(byStatus.has("5xx")).as("a meter without an earlier count has no rate yet").isFalse();
    }

    @Test
    void latencyPercentilesCoverOnlyWindow() {
        Timer ok = ingestTimer("2xx");
        for (int i = 0; i < 100; i++) {
            ok.record(Duration.ofMillis(500));
        }
        MeterReadings before = MeterReadings.read(registries, 0, 1_000);
        for (int i = 1; i <= 100; i++) {
            ok.record(Duration.ofMillis(i));
        }

        JsonNode latency = snapshot(before, MeterReadings.read(registries, SECOND, 2_000)).get("latencyMs");

        // Micrometer's default buckets near 50 ms are about 5.6 ms wide, so interpolation lands within one bucket.
        assertThat(latency.get("p50").asDouble()).isCloseTo(50, within(6.0));
        assertThat(latency.get("p99").asDouble()).isCloseTo(99, within(12.0));
        assertThat(latency.get("p99").asDouble()).as("values recorded before the window are left out").isLessThan(500);
    }

    @Test
    void quantileAboveLastBoundIsLastBound() {
        var cumulative = new java.util.TreeMap<Double, Double>(Map.of(1.0, 1.0, 2.0, 2.0));

        MeterReadings.Buckets buckets = new MeterReadings.Buckets(10, cumulative);

        assertThat(buckets.quantile(0.99)).isEqualTo(2.0);
        assertThat(buckets.quantile(0.05)).isEqualTo(0.5);
        assertThat(new MeterReadings.Buckets(0, cumulative).quantile(0.5)).isNull();
    }

    @Test
    void cacheHitRatioIsPerTier() {
        Counter l1Hits = counter(app, MeterReadings.CACHE_GETS, "cache", "products", "tier", "l1", "result", "hit");
        Counter l1Misses = counter(app, MeterReadings.CACHE_GETS, "cache", "products", "tier", "l1", "result", "miss");
        Counter pinnedMisses = counter(app, MeterReadings.CACHE_GETS, "cache", "products", "tier", "pinned", "result", "miss");
        counter(app, MeterReadings.CACHE_GETS, "cache", "accounts", "tier", "l2", "result", "hit");
        MeterReadings before = MeterReadings.read(registries, 0, 1_000);
        l1Hits.increment(3);
        l1Misses.increment(1);
        pinnedMisses.increment(4);

        JsonNode ratios = snapshot(before, MeterReadings.read(registries, SECOND, 2_000)).get("cacheHitRatio");

        assertThat(ratios.get("l1").asDouble()).isEqualTo(0.75);
        assertThat(ratios.get("pinned").asDouble()).isEqualTo(0.0);
        assertThat(ratios.has("l2")).as("a tier without lookups in the window has no ratio").isFalse();
    }

    @Test
    void edgeHitRatioLeavesOutPass() {
        Counter hits = counter(edge, MeterReadings.EDGE_REQUESTS, "region", "us-east", "result", "hit");
        Counter stale = counter(edge, MeterReadings.EDGE_REQUESTS, "region", "us-east", "result", "stale");
        Counter misses = counter(edge, MeterReadings.EDGE_REQUESTS, "region", "us-east", "result", "miss");
        Counter passes = counter(edge, MeterReadings.EDGE_REQUESTS, "region", "us-east", "result", "pass");
        MeterReadings before = MeterReadings.read(registries, 0, 1_000);
        hits.increment(2);
        stale.increment(1);
        misses.increment(1);
        passes.increment(100);

        JsonNode ratios = snapshot(before, MeterReadings.read(registries, SECOND, 2_000)).get("edgeHitRatio");

        assertThat(ratios.get("us-east").asDouble()).isEqualTo(0.75);
    }

    @Test
    void appServerRateIsByComponent() {
        Counter answered = counter(app, MeterReadings.APP_REQUESTS, "status", "2xx");
        MeterReadings before = MeterReadings.read(registries, 0, 1_000);
        answered.increment(7);

        JsonNode server = snapshot(before, MeterReadings.read(registries, SECOND, 2_000)).get("appServers").get(0);

        assertThat(server.get("id").asText()).isEqualTo("app-1");
        assertThat(server.get("requestsPerSecond").asDouble()).isEqualTo(7.0);
        assertThat(server.get("loadBalancerState").asText()).isEqualTo("UP");
    }

    @Test
    void purgeLagReadsPublishedPercentiles() {
        Timer published = Timer.builder(MeterReadings.INVALIDATOR_PURGE_LAG).publishPercentiles(0.5, 0.99).register(app);
        Timer applied = Timer.builder(MeterReadings.EDGE_PURGE_LAG).tag("region", "us-east")
                .publishPercentiles(0.5, 0.99, 0.999).register(edge);
        MeterReadings empty = MeterReadings.read(registries, 0, 1_000);
        published.record(Duration.ofMillis(40));
        applied.record(Duration.ofMillis(60));

        JsonNode beforeAny = snapshot(null, empty).get("purgeLagMs");
        JsonNode purgeLag = snapshot(empty, MeterReadings.read(registries, SECOND, 2_000)).get("purgeLagMs");

        assertThat(beforeAny.get("published").get("p99").isNull()).isTrue();
        assertThat(beforeAny.get("applied").isEmpty()).isTrue();
        assertThat(purgeLag.get("published").get("p99").asDouble()).isCloseTo(40, within(2.0));
        assertThat(purgeLag.get("applied").get("us-east").get("p99").asDouble()).isCloseTo(60, within(2.0));
        assertThat(purgeLag.get("applied").get("us-east").has("p99.9")).isFalse();
    }

    @Test
    void percentileLabelKeepsDecimals() {
        assertThat(MeterReadings.percentileLabel(0.5)).isEqualTo("p50");
        assertThat(MeterReadings.percentileLabel(0.99)).isEqualTo("p99");
        assertThat(MeterReadings.percentileLabel(0.999)).isEqualTo("p99.9");
    }
}
