package dev.backbone.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code backbone demo} as a child JVM, as a user does, and measures the time from process start until the stack
 * reports ready and the process's peak resident set size ({@code VmHWM} in {@code /proc/PID/status}, Linux only).
 */
final class DemoProcessProbe {

    /**
     * Start-up time, peak memory and exit code of one demo process.
     *
     * @param readyAfter  from process start to the line "Stack ready"
     * @param peakRssKiB  the high-water mark of resident memory, KiB
     * @param exitCode    the demo's exit code
     */
    record Result(Duration readyAfter, long peakRssKiB, int exitCode) {
    }

    private DemoProcessProbe() {
    }

    static Result run(Path launcherJar, List<String> javaOptions, List<String> demoArguments, Duration timeout) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(javaOptions);
        command.add("-jar");
        command.add(launcherJar.toString());
        command.add("demo");
        command.addAll(demoArguments);
        long startedAt = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        Path status = Path.of("/proc", String.valueOf(process.pid()), "status");
        long[] readyNanos = {0};
        long[] peak = {0};
        Thread reader = new Thread(() -> {
            try (var lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    if (readyNanos[0] == 0 && line.startsWith("Stack ready")) {
                        readyNanos[0] = System.nanoTime() - startedAt;
                    }
                }
            } catch (IOException e) {
                // The process ended, and the caller reads its exit code.
            }
        }, "demo-output");
        reader.start();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (process.isAlive() && System.nanoTime() < deadline) {
            peak[0] = Math.max(peak[0], peakRss(status));
            process.waitFor(200, TimeUnit.MILLISECONDS);
        }
        if (process.isAlive()) {
            process.destroyForcibly();
            throw new IllegalStateException("the demo did not finish within " + timeout.toSeconds() + " s");
        }
        reader.join();
        if (readyNanos[0] == 0) {
            throw new IllegalStateException("the demo never printed 'Stack ready'; exit code " + process.exitValue());
        }
        return new Result(Duration.ofNanos(readyNanos[0]), peak[0], process.exitValue());
    }

    private static long peakRss(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // The process may have ended between the check and the read.
        }
        return 0;
    }
}
