package dev.backbone.invalidator;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.util.concurrent.TimeUnit;

/** Formats a lag timer's percentiles for the summaries that integration tests log; no test asserts on timing. */
final class LagSummary {

    private LagSummary() {
    }

    static String of(Timer timer) {
        var text = new StringBuilder();
        for (ValueAtPercentile percentile : timer.takeSnapshot().percentileValues()) {
            text.append("p").append(Math.round(percentile.percentile() * 100)).append(' ')
                    .append(Math.round(percentile.value(TimeUnit.MILLISECONDS))).append(" ms, ");
        }
        return text.append("max ").append(Math.round(timer.max(TimeUnit.MILLISECONDS))).append(" ms").toString();
    }
}
