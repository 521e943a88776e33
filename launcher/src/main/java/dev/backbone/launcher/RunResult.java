package dev.backbone.launcher;

import java.time.Duration;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What a workload run saw.
 *
 * @param requests       requests sent
 * @param statusCounts   responses by HTTP status; transport failures and failed sends under status 0
 * @param writesAccepted writes answered 200
 * @param elapsed        wall time of the whole run
 * @param latencyMicros  latency histogram in microseconds; open-loop runs measure from the intended send time
 */
public record RunResult(long requests, Map<Integer, Long> statusCounts, long writesAccepted, Duration elapsed, Histogram latencyMicros) {

    /** Returns how many responses had a status from {@code fromStatus} to {@code toStatus}, both included. */
    public long count(int fromStatus, int toStatus) {
        return statusCounts.entrySet().stream()
                .filter(e -> e.getKey() >= fromStatus && e.getKey() <= toStatus)
                .mapToLong(Map.Entry::getValue).sum();
    }

    public double throughputPerSecond() {
        return requests / Math.max(1e-9, elapsed.toNanos() / 1e9);
    }
}
