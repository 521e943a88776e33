package dev.backbone.launcher.cluster;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;

/**
 * One service of a {@link Cluster}, run as a JVM of its own: {@link ServiceRunner} around the service's {@code Main},
 * configured by a properties file, with standard output and error appended to a log file. It can be started again
 * after a stop or a kill, with the same configuration and ports.
 */
public final class ServiceProcess {

    /** A log line that states an error: an exception with its message, a "Caused by" line or an ERROR log record. */
    private static final Pattern ERROR_LINE = Pattern.compile("^Caused by: |^[\\w.$]+(Exception|Error): | ERROR ");

    /** The kinds of service, with their main class and the log line that shows the service is ready. */
    public enum Kind {
        ROUTING("dev.backbone.routing.Main", "Routing-streams \\S+ is running"),
        APP_SERVER("dev.backbone.appserver.Main", "App server \\S+ started"),
        CACHE_INVALIDATOR("dev.backbone.invalidator.Main", "Cache invalidator ready"),
        CDN_EDGE("dev.backbone.cdn.Main", "CDN edge \\S+ listening on"),
        FRONT_DOOR("dev.backbone.ingest.Main", "Front door \\S+ listening on");

        private final String mainClass;
        private final Pattern ready;

        Kind(String mainClass, String ready) {
            this.mainClass = mainClass;
            this.ready = Pattern.compile(ready);
        }

        public String mainClass() {
            return mainClass;
        }
    }

    private final String name;
    private final Kind kind;
    private final Map<String, String> settings;
    private final Map<String, Integer> ports;
    private final Path propertiesFile;
    private final Path logFile;
    private final List<String> jvmOptions;
    private Process process;
    private long logOffsetAtStart;

    ServiceProcess(String name, Kind kind, Map<String, String> settings, Map<String, Integer> ports, Path workDir,
            List<String> jvmOptions) {
        this.name = name;
        this.kind = kind;
        this.settings = Map.copyOf(settings);
        this.ports = new LinkedHashMap<>(ports);
        this.propertiesFile = workDir.resolve(name + ".properties");
        this.logFile = workDir.resolve(name + ".log");
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    /** Writes the properties file and starts the JVM. Does nothing when it runs. */
    synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        try {
            writeProperties();
            logOffsetAtStart = Files.exists(logFile) ? Files.size(logFile) : 0;
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(jvmOptions);
            command.add("-Dbackbone.service=" + name);
            // The ready lines are logged at INFO, which the launcher's logging configuration shows only when asked.
            command.add("-DBACKBONE_LOG_LEVEL=INFO");
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(ServiceRunner.class.getName());
            command.add(kind.mainClass());
            command.add(propertiesFile.toString());
            var builder = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
            // BACKBONE_* variables of this process would override the service's properties file.
            builder.environment().keySet().removeIf(key -> key.startsWith("BACKBONE_"));
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + e.getMessage(), e);
        }
    }

    private void writeProperties() throws IOException {
        var properties = new Properties();
        properties.putAll(settings);
        try (OutputStream out = Files.newOutputStream(propertiesFile)) {
            properties.store(out, name + " (" + kind + "), written by backbone cluster");
        }
        // The file contains secrets (auth.secret, edge.token, admin.token), so only the owner may read it.
        if (Files.getFileStore(propertiesFile).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(propertiesFile, PosixFilePermissions.fromString("rw-------"));
        }
    }

    /**
     * Waits until the log, since the last start, shows the service's ready line.
     *
     * @throws IllegalStateException when the process exits first or the timeout passes, with the log's last lines
     */
    void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (kind.ready.matcher(logSinceStart()).find()) {
                return;
            }
            if (!isAlive()) {
                throw new IllegalStateException(name + " exited with status " + process.exitValue()
                        + " before it was ready" + lastError() + "; its log: " + logFile);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
        throw new IllegalStateException(name + " was not ready within " + timeout.toSeconds() + " s" + lastError()
                + "; its log: " + logFile);
    }

    /** Returns {@code ": "} and the last error or exception line of the log since the last start, or nothing. */
    private String lastError() {
        String found = "";
        for (String line : logSinceStart().split("\n")) {
            if (ERROR_LINE.matcher(line).find()) {
                found = line.strip();
            }
        }
        return found.isEmpty() ? "" : ": " + found;
    }

    private String logSinceStart() {
        try {
            byte[] bytes = Files.readAllBytes(logFile);
            int from = (int) Math.min(bytes.length, logOffsetAtStart);
            return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** Returns the last {@code lines} lines of the log. */
    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + logFile + ": " + e.getMessage() + ")";
        }
    }

    /** Kills the JVM with SIGKILL, as a crash would, and waits until it is gone. */
    public synchronized void kill() {
        if (process != null) {
            process.destroyForcibly();
            awaitExit(Duration.ofSeconds(10));
        }
    }

    /** Asks the JVM to stop with SIGTERM, which runs the service's shutdown hook; kills it after {@code grace}. */
    public synchronized void stop(Duration grace) {
        if (process == null || !process.isAlive()) {
            return;
        }
        resume();
        process.destroy();
        if (!awaitExit(grace)) {
            process.destroyForcibly();
            awaitExit(Duration.ofSeconds(10));
        }
    }

    /** Suspends the JVM with SIGSTOP, like a long garbage-collection pause: it keeps its sockets and sends nothing. */
    public synchronized void pause() {
        signal("STOP");
    }

    /** Resumes a JVM suspended by {@link #pause()}. */
    public synchronized void resume() {
        signal("CONT");
    }

    private void signal(String signal) {
        if (process == null || !process.isAlive()) {
            return;
        }
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill -" + signal + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending SIG" + signal + " to " + name, e);
        }
    }

    private boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** Returns the process id, or -1 before the first start. */
    public long pid() {
        return process == null ? -1 : process.pid();
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    /** Returns the configuration the service runs with. */
    public Map<String, String> settings() {
        return settings;
    }

    /** Returns the service's ports by use, such as {@code http → 8080} and {@code metrics → 9404}. */
    public Map<String, Integer> ports() {
        return ports;
    }

    public Path logFile() {
        return logFile;
    }
}
