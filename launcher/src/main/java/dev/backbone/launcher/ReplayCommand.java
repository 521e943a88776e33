package dev.backbone.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code backbone replay FILE}: replays an access log as request events, keeping its timing scaled by a speed factor. */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Replays an access log (NCSA Common or Combined Log Format, or JSON lines) through a front door "
                + "or as events to Kafka, keeping the inter-arrival times divided by --speed.",
                "Lines that share a whole second (NCSA logs) are spread evenly over that second. The client address "
                + "becomes the client id ip-ADDRESS, the same id the front door gives a client without X-Client-Id; "
                + "a stable hash of the address picks its region from --regions. Unparseable lines are reported with "
                + "their line number and skipped."})
final class ReplayCommand implements Callable<Integer> {

    private static final int MAX_REPORTED_ERRORS = 20;

    @Parameters(index = "0", paramLabel = "FILE", description = "The access log to replay.")
    Path file;

    @Option(names = "--format", defaultValue = "auto", description = "Log format: ${COMPLETION-CANDIDATES}; auto reads "
            + "lines starting with '{' as JSON and the rest as NCSA (default: ${DEFAULT-VALUE}).")
    AccessLogParser.Format format;

    @Option(names = "--json-field", paramLabel = "KEY=NAME", description = "JSON field name for a key: time, client, "
            + "path, method, host or body, such as --json-field time=@timestamp. Repeatable.")
    Map<String, String> jsonFields = new HashMap<>();

    @Option(names = "--speed", defaultValue = "1.0", description = "Replay this many times faster than logged (default: ${DEFAULT-VALUE}).")
    double speed;

    @Option(names = "--limit", description = "Replay at most this many entries.")
    Long limit;

    @Option(names = "--url", defaultValue = "http://127.0.0.1:8080/", description = "Front-door base URL (default: ${DEFAULT-VALUE}).")
    URI url;

    @Option(names = "--host", defaultValue = "shop.example.com", description = "Site for entries without a host (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--regions", defaultValue = RegionMix.DEFAULT, description = "Region mix, " + RegionMix.FORMAT + " (default: ${DEFAULT-VALUE}).")
    String regions;

    @Option(names = "--max-in-flight", defaultValue = "256", description = "Requests awaiting a response at most (default: ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(names = "--to", defaultValue = "http", description = "Where to send: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    LoadCommand.Target target;

    @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers, with --to kafka.")
    String bootstrapServers;

    @Option(names = "--reply-partition", defaultValue = "5", description = "Partition of backbone.responses for responses, with --to kafka (default: ${DEFAULT-VALUE}).")
    int replyPartition;

    @Option(names = "--token", defaultValue = "${env:BACKBONE_TOKEN}", description = "Bearer token sent with writes "
            + "(mint one with backbone token; default: the BACKBONE_TOKEN environment variable).")
    String bearerToken;

    @Option(names = "--timeout", defaultValue = "30", description = "Seconds to wait for one response (default: ${DEFAULT-VALUE}).")
    double timeoutSeconds;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!(speed > 0)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--speed must be > 0, got " + speed);
        }
        if (target == LoadCommand.Target.kafka && (bootstrapServers == null || bootstrapServers.isBlank())) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--to kafka needs --bootstrap-servers, such as 127.0.0.1:9092");
        }
        if (!Files.isReadable(file)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "cannot read " + file + ": no such file or no permission");
        }
        RegionMix mix;
        AccessLogParser parser;
        try {
            mix = RegionMix.parse(regions);
            parser = new AccessLogParser(format, jsonFields);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }

        List<AccessLogParser.Entry> entries = read(parser);
        if (entries.isEmpty()) {
            System.err.println("replay: no replayable entries in " + file);
            return 1;
        }
        List<OpenLoopRunner.Scheduled> schedule = schedule(entries, mix);
        Duration span = Duration.ofNanos(schedule.get(schedule.size() - 1).offsetNanos());
        System.out.printf("Replaying %,d entries from %s over %.1f s (%.1fx speed) to %s%n", entries.size(), file,
                span.toMillis() / 1000.0, speed, target == LoadCommand.Target.kafka ? "Kafka at " + bootstrapServers : url);
        try (RequestSender sender = target == LoadCommand.Target.kafka
                ? new KafkaRequestSender(bootstrapServers, replyPartition, (long) (timeoutSeconds * 1000))
                : new HttpRequestSender(url, Duration.ofMillis((long) (timeoutSeconds * 1000)), bearerToken)) {
            Iterator<OpenLoopRunner.Scheduled> iterator = schedule.iterator();
            RunResult result = new OpenLoopRunner(sender, maxInFlight, System.out).run(iterator, schedule.size());
            LatencyReport.print(System.out, "Replay summary", result);
            return result.count(0, 0) + result.count(500, 599) == 0 ? 0 : 1;
        }
    }

    private List<AccessLogParser.Entry> read(AccessLogParser parser) throws IOException {
        List<AccessLogParser.Entry> entries = new ArrayList<>();
        long lineNumber = 0;
        long unparseable = 0;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null && (limit == null || entries.size() < limit)) {
                lineNumber++;
                try {
                    parser.parse(lineNumber, line).ifPresent(entries::add);
                } catch (IllegalArgumentException e) {
                    unparseable++;
                    if (unparseable <= MAX_REPORTED_ERRORS) {
                        System.err.printf("replay: %s line %d skipped: %s: %s%n", file.getFileName(), lineNumber, e.getMessage(),
                                AccessLogParser.abbreviate(line));
                    }
                }
            }
        }
        if (unparseable > 0) {
            System.err.printf("replay: %,d of %,d lines skipped as unparseable%s%n", unparseable, lineNumber,
                    unparseable > MAX_REPORTED_ERRORS ? " (the first " + MAX_REPORTED_ERRORS + " are shown)" : "");
        }
        return entries;
    }

    /** Turns log times into send offsets: relative to the first entry, never going back, divided by the speed. */
    List<OpenLoopRunner.Scheduled> schedule(List<AccessLogParser.Entry> entries, RegionMix mix) {
        List<OpenLoopRunner.Scheduled> schedule = new ArrayList<>(entries.size());
        long firstNanos = toNanos(entries.get(0));
        long previousNanos = 0;
        int i = 0;
        while (i < entries.size()) {
            // Entries of one whole second are spread evenly over it, so a second-resolution log does not replay as bursts.
            int groupEnd = i + 1;
            if (entries.get(i).secondsOnly()) {
                while (groupEnd < entries.size() && entries.get(groupEnd).secondsOnly()
                        && entries.get(groupEnd).time().equals(entries.get(i).time())) {
                    groupEnd++;
                }
            }
            int groupSize = groupEnd - i;
            for (int j = 0; j < groupSize; j++) {
                AccessLogParser.Entry entry = entries.get(i + j);
                long spread = entry.secondsOnly() ? j * 1_000_000_000L / groupSize : 0;
                long logged = Math.max(previousNanos, toNanos(entry) - firstNanos + spread);
                previousNanos = logged;
                String clientId = "ip-" + entry.clientAddress().replace(':', '.');
                RegionMix.Region region = mix.forClient(clientId);
                boolean write = !entry.method().equals("GET") && !entry.method().equals("HEAD");
                var request = new RequestSender.Request(entry.method(), entry.path(), entry.host() != null ? entry.host() : host,
                        clientId, region.name(), region.country(), entry.body());
                schedule.add(new OpenLoopRunner.Scheduled((long) (logged / speed), request, write));
            }
            i = groupEnd;
        }
        return schedule;
    }

    private static long toNanos(AccessLogParser.Entry entry) {
        return entry.time().getEpochSecond() * 1_000_000_000L + entry.time().getNano();
    }
}
