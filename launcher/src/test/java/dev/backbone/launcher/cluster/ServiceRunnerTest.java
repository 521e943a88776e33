package dev.backbone.launcher.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A service JVM started through {@link ServiceRunner}, whose standard input the test closes as a dead cluster would. */
class ServiceRunnerTest {

    /** A service whose shutdown hook never returns, as a Kafka client's close can when the broker is gone. */
    public static final class HangingService {

        public static void main(String[] args) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                while (true) {
                    LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
                }
            }));
            System.out.println("hanging service started");
            while (true) {
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
            }
        }
    }

    @Test
    void closedInputHaltsHangingService(@TempDir Path dir) throws Exception {
        Path output = dir.resolve("service.log");
        Process process = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-D" + ServiceRunner.HALT_AFTER_PROPERTY + "=1000", "-cp", System.getProperty("java.class.path"),
                ServiceRunner.class.getName(), HangingService.class.getName()))
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            awaitLine(output, "hanging service started");

            process.getOutputStream().close();

            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the service JVM exited").isTrue();
            assertThat(process.exitValue()).as("exit code of a halted service").isEqualTo(1);
            String log = Files.readString(output, StandardCharsets.UTF_8);
            assertThat(log).contains("The cluster process is gone; stopping this service");
            assertThat(log).contains("The service did not stop within 1000 ms; halting");
        } finally {
            process.destroyForcibly();
        }
    }

    private static void awaitLine(Path output, String line) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (Files.exists(output) && Files.readString(output, StandardCharsets.UTF_8).contains(line)) {
                return;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        throw new AssertionError("the service did not print '" + line + "' within 30 s");
    }
}
