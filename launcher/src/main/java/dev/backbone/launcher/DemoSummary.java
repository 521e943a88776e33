package dev.backbone.launcher;

import dev.backbone.appserver.AppServer;
import dev.backbone.appserver.AppServerStats;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Prints the demo's summary table. */
final class DemoSummary {

    private DemoSummary() {
    }

    static void print(PrintStream out, RunResult result, List<AppServer> appServers) {
        Histogram latency = result.latencyMicros();
        long hits = 0;
        long misses = 0;
        long pinnedHits = 0;
        long l1Hits = 0;
        long l2Hits = 0;
        Histogram lag = new Histogram(3);
        for (AppServer server : appServers) {
            AppServerStats stats = server.stats();
            hits += stats.cacheHits();
            misses += stats.cacheMisses();
            pinnedHits += stats.pinnedHits();
            l1Hits += stats.l1Hits();
            l2Hits += stats.l2Hits();
            lag.add(stats.evictionLagMs());
        }
        out.println();
        out.println("Backbone demo summary");
        out.println("---------------------------------------------------------------");
        row(out, "requests", String.format("%,d", result.requests()));
        for (Map.Entry<Integer, Long> entry : result.statusCounts().entrySet()) {
            String label = entry.getKey() == 0 ? "failed (no HTTP answer)" : "responses " + entry.getKey();
            row(out, label, String.format("%,d", entry.getValue()));
        }
        row(out, "5xx responses", String.format("%,d", result.count(500, 599)));
        row(out, "throughput", String.format("%,.0f requests/s over %.1f s", result.throughputPerSecond(), result.elapsed().toMillis() / 1000.0));
        row(out, "latency p50 / p95 / p99", String.format("%.1f / %.1f / %.1f ms",
                latency.getValueAtPercentile(50) / 1000.0, latency.getValueAtPercentile(95) / 1000.0, latency.getValueAtPercentile(99) / 1000.0));
        row(out, "cache hit ratio", hits + misses == 0 ? "no reads"
                : String.format("%.1f %% (%,d hits: %,d pinned, %,d L1, %,d L2; %,d misses)", 100.0 * hits / (hits + misses),
                        hits, pinnedHits, l1Hits, l2Hits, misses));
        row(out, "commit-to-eviction lag", lag.getTotalCount() == 0 ? "no evictions measured"
                : String.format("p50 %d ms, p99 %d ms (%,d evictions over %d app servers)",
                        lag.getValueAtPercentile(50), lag.getValueAtPercentile(99), lag.getTotalCount(), appServers.size()));
        out.println("---------------------------------------------------------------");
    }

    private static void row(PrintStream out, String label, String value) {
        out.printf("  %-28s %s%n", label, value);
    }
}
