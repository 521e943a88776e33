package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Runs {@code backbone demo} with a short workload, as a user would, and reads its summary. */
class DemoCommandIT {

    @Test
    void demoPrintsSummaryAndExitsZero() {
        PrintStream original = System.out;
        var captured = new ByteArrayOutputStream();
        int exitCode;
        try (var tee = new PrintStream(new TeeOutputStream(original, captured), true, StandardCharsets.UTF_8)) {
            System.setOut(tee);
            exitCode = Backbone.run("demo", "--requests", "1500", "--products", "1000", "--categories", "20", "--write-ratio", "0.05");
        } finally {
            System.setOut(original);
        }
        String output = captured.toString(StandardCharsets.UTF_8);

        assertThat(exitCode).as("exit code; output:%n%s", output).isZero();
        assertThat(output).contains("progress: 1,500/1,500 requests (100%)");
        assertThat(output).contains("Backbone demo summary");
        assertThat(output).containsPattern("5xx responses\\s+0\\b");
        var hitRatio = java.util.regex.Pattern.compile("cache hit ratio \\(L1\\)\\s+([0-9.]+) %").matcher(output);
        assertThat(hitRatio.find()).as("hit ratio line in:%n%s", output).isTrue();
        assertThat(Double.parseDouble(hitRatio.group(1))).isGreaterThan(0);
        assertThat(output).containsPattern("commit-to-eviction lag\\s+p50 \\d+ ms, p99 \\d+ ms");
        assertThat(output).contains("Stopped cleanly");
    }

    /** Writes to two streams, so the demo's output shows in the test log and can be asserted. */
    private static final class TeeOutputStream extends java.io.OutputStream {
        private final java.io.OutputStream first;
        private final java.io.OutputStream second;

        TeeOutputStream(java.io.OutputStream first, java.io.OutputStream second) {
            this.first = first;
            this.second = second;
        }

        @Override
        public void write(int b) throws java.io.IOException {
            first.write(b);
            second.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws java.io.IOException {
            first.write(b, off, len);
            second.write(b, off, len);
        }
    }
}
