package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Runs {@code backbone demo} with a short workload, as a user would, and reads its summary. */
class DemoCommandIT {

    @Test
    void demoPrintsSummaryAndExitsZero() {
        ConsoleCapture.Result result = ConsoleCapture.run(() -> Backbone.run(
                "demo", "--requests", "1500", "--products", "1000", "--categories", "20", "--write-ratio", "0.05"));
        String output = result.out();

        assertThat(result.exitCode()).as("exit code; output:%n%s", output).isZero();
        assertThat(output).contains("progress: 1,500/1,500 requests (100%)");
        assertThat(output).contains("Backbone demo summary");
        assertThat(output).containsPattern("5xx responses\\s+0\\b");
        var hitRatio = Pattern.compile("cache hit ratio\\s+([0-9.]+) %").matcher(output);
        assertThat(hitRatio.find()).as("hit ratio line in:%n%s", output).isTrue();
        assertThat(Double.parseDouble(hitRatio.group(1))).isGreaterThan(0);
        assertThat(output).containsPattern("commit-to-eviction lag\\s+p50 \\d+ ms, p99 \\d+ ms");
        assertThat(output).contains("Stopped cleanly");
    }

    @Test
    void invalidOptionIsRejectedWithUsage() {
        ConsoleCapture.Result result = ConsoleCapture.run(() -> Backbone.run("demo", "--write-ratio", "2"));

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("--write-ratio must be from 0 to 1, got 2.0");
    }
}
