package dev.backbone.launcher;

import java.io.PrintStream;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Prints the summary of a load or replay run: status counts, rate and latency percentiles. */
public final class LatencyReport {

    private LatencyReport() {
    }

    public static void print(PrintStream out, String title, RunResult result) {
        Histogram latency = result.latencyMicros();
        out.println();
        out.println(title);
        out.println("---------------------------------------------------------------");
        out.printf("  %-24s %,d%n", "requests", result.requests());
        for (Map.Entry<Integer, Long> entry : result.statusCounts().entrySet()) {
            out.printf("  %-24s %,d%n", entry.getKey() == 0 ? "failed (no answer)" : "status " + entry.getKey(), entry.getValue());
        }
        out.printf("  %-24s %,.0f requests/s over %.1f s%n", "achieved rate", result.throughputPerSecond(), result.elapsed().toMillis() / 1000.0);
        if (latency.getTotalCount() > 0) {
            out.printf("  %-24s p50 %.2f, p90 %.2f, p99 %.2f, p99.9 %.2f, max %.2f ms%n", "latency",
                    latency.getValueAtPercentile(50) / 1000.0, latency.getValueAtPercentile(90) / 1000.0,
                    latency.getValueAtPercentile(99) / 1000.0, latency.getValueAtPercentile(99.9) / 1000.0, latency.getMaxValue() / 1000.0);
        }
        out.println("---------------------------------------------------------------");
    }
}
