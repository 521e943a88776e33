package dev.backbone.bench;

import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.DnsRecord;
import dev.backbone.events.Heartbeat;
import dev.backbone.events.Settings;
import dev.backbone.events.Topics;
import dev.backbone.ingest.FrontDoor;
import dev.backbone.ingest.IngestConfig;
import dev.backbone.launcher.LocalStack;
import dev.backbone.launcher.OpenLoopRunner;
import dev.backbone.launcher.RequestSender;
import dev.backbone.launcher.RunResult;
import dev.backbone.launcher.StackOptions;
import dev.backbone.launcher.Workload;
import dev.backbone.routing.RoutingConfig;
import dev.backbone.routing.RoutingService;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The end-to-end benchmark: every Backbone figure next to a baseline measured in the same run on the same broker, and
 * reported as a ratio, because absolute times on a shared machine drift from day to day.
 */
@Command(name = "EndToEndBenchmark", mixinStandardHelpOptions = true,
        description = "Measures Kafka baselines, the routing topology against a pass-through topology, and the HTTP "
                + "front door against the raw producer and the raw Kafka round trip; prints a Markdown report.")
public final class EndToEndBenchmark implements Callable<Integer> {

    @Option(names = "--records", defaultValue = "300000", description = "Records for the raw producer and for each round of the topologies (default: ${DEFAULT-VALUE}).")
    int records;

    @Option(names = "--warmup-rounds", defaultValue = "2",
            description = "Unmeasured rounds of both topologies before the measured ones (default: ${DEFAULT-VALUE}).")
    int warmupRounds;

    @Option(names = "--rounds", defaultValue = "5",
            description = "Measured rounds of both topologies after the warm-up; the report gives the medians (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--http-requests", defaultValue = "10000", description = "Requests for the front-door maximum rate (default: ${DEFAULT-VALUE}).")
    int httpRequests;

    @Option(names = "--http-warmup-requests", defaultValue = "10000",
            description = "Requests sent to the front door before it is measured; 0 skips the warm-up (default: ${DEFAULT-VALUE}).")
    int httpWarmupRequests;

    @Option(names = "--http-concurrency", defaultValue = "64",
            description = "Requests in flight for the maximum rate, and connections of the HTTP latency run (default: ${DEFAULT-VALUE}).")
    int httpConcurrency;

    @Option(names = "--batch-size", defaultValue = "500",
            description = "Request lines per call of the front door's batch endpoint (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--batch-in-flight", defaultValue = "4",
            description = "Batch calls in flight at once (default: ${DEFAULT-VALUE}).")
    int batchInFlight;

    @Option(names = "--batch-warmup-lines", defaultValue = "3000000",
            description = "Request lines sent to the batch endpoint before its paired rounds, so that the front door's "
                    + "code is compiled when it is measured; 0 skips them (default: ${DEFAULT-VALUE}).")
    int batchWarmupLines;

    @Option(names = "--latency-seconds", defaultValue = "20", description = "Seconds of each fixed-rate latency run (default: ${DEFAULT-VALUE}).")
    int latencySeconds;

    @Option(names = "--output", description = "Also append the report to this Markdown file.")
    Path output;

    @Option(names = "--launcher-jar", defaultValue = "launcher/target/backbone.jar",
            description = "The launcher jar for the start-up and memory run (default: ${DEFAULT-VALUE}).")
    Path launcherJar;

    @Option(names = "--skip-demo-process", description = "Skip the start-up time and peak memory run of backbone demo.")
    boolean skipDemoProcess;

    @Spec
    CommandSpec spec;

    private final List<String> rows = new ArrayList<>();

    public static void main(String[] args) {
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
        System.exit(new CommandLine(new EndToEndBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (httpWarmupRequests < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--http-warmup-requests must be 0 or more, was " + httpWarmupRequests);
        }
        if (rounds < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rounds must be at least 1, was " + rounds);
        }
        if (records < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--records must be at least 1, was " + records);
        }
        if (httpRequests < 1 || httpConcurrency < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--http-requests and --http-concurrency must be at least 1, were " + httpRequests + " and " + httpConcurrency);
        }
        if (latencySeconds < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--latency-seconds must be at least 1, was " + latencySeconds);
        }
        if (batchSize < 1 || batchInFlight < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--batch-size and --batch-in-flight must be at least 1, were " + batchSize + " and " + batchInFlight);
        }
        if (batchWarmupLines < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--batch-warmup-lines must be 0 or more, was " + batchWarmupLines);
        }
        if (warmupRounds < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--warmup-rounds must be 0 or more, was " + warmupRounds);
        }
        PrintStream out = System.out;
        out.printf("End-to-end benchmark: %d cores, %.1f GiB max heap, %s%n", Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() / (1024.0 * 1024 * 1024), LocalDate.now());
        streamsPhase(out);
        httpPhase(out);
        if (!skipDemoProcess) {
            demoProcessPhase(out);
        }
        String report = report();
        out.println();
        out.println(report);
        if (output != null) {
            Files.writeString(output, report + System.lineSeparator(), java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        }
        return 0;
    }

    /** Raw producer, pass-through topology and routing topology, all on one bare broker. */
    private void streamsPhase(PrintStream out) throws Exception {
        out.println("Phase 1: Kafka baselines and the routing topology on one embedded broker");
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createBackboneTopics();
            String bootstrap = kafka.bootstrapServers();

            KafkaBaselines.createTopic(bootstrap, "bench.raw", Topics.CLIENT_REQUESTS.partitions());
            double producerRate = KafkaBaselines.producerThroughput(bootstrap, "bench.raw", records);
            row("raw producer (acks=all, idempotent, request-sized JSON)", "%,.0f records/s", producerRate, "baseline");
            out.printf("  raw producer: %,.0f records/s%n", producerRate);

            preloadRequests(bootstrap, records);
            KafkaBaselines.createTopic(bootstrap, "bench.pass-through-out", Topics.ROUTED_REQUESTS.partitions());
            Path stateDir = Files.createTempDirectory("backbone-bench-streams-");
            try (AutoCloseable heartbeats = startAppServerHeartbeats(bootstrap)) {
                for (int round = 0; round < warmupRounds; round++) {
                    // The JIT keeps compiling for several rounds: after one warm-up round of 50,000 records, the next
                    // three rounds still got faster, from 80,000 to 129,000 records/s for the pass-through.
                    double[] rates = streamsRound(bootstrap, stateDir, "-warmup-" + (round + 1), records, round);
                    out.printf("  warm-up round %d of %d: pass-through %,.0f records/s, routing-streams %,.0f records/s, "
                            + "without traces %,.0f records/s%n", round + 1, warmupRounds, rates[0], rates[1], rates[2]);
                }
                // Paired rounds and medians: with 100,000 records a round lasted two to three seconds, and the ratio of
                // single rounds ranged from 0.69 to 1.24 within one run. The order of the three runs rotates by round.
                double[] passThroughRates = new double[rounds];
                double[] routingRates = new double[rounds];
                double[] untracedRates = new double[rounds];
                for (int round = 0; round < rounds; round++) {
                    double[] rates = streamsRound(bootstrap, stateDir, "-" + (round + 1), records, round);
                    passThroughRates[round] = rates[0];
                    routingRates[round] = rates[1];
                    untracedRates[round] = rates[2];
                    out.printf("  round %d of %d: pass-through %,.0f records/s, routing-streams %,.0f records/s (%.2f ×), "
                            + "without traces %,.0f records/s (%.2f ×)%n", round + 1, rounds, rates[0], rates[1],
                            rates[1] / rates[0], rates[2], rates[2] / rates[0]);
                }
                double passThroughRate = median(passThroughRates);
                double routingRate = median(routingRates);
                // The ratio pairs the runs of each round, which ran under the same conditions.
                double ratio = medianRatio(routingRates, passThroughRates);
                double untracedRatio = medianRatio(untracedRates, passThroughRates);
                row("pass-through topology (same serdes, no logic), median of " + rounds + " rounds", "%,.0f records/s",
                        passThroughRate, "baseline");
                out.printf("  pass-through topology: %,.0f records/s%n", passThroughRate);
                row("routing-streams (DNS, client cache, waterfall, Maglev, routing trace), median of " + rounds + " rounds",
                        "%,.0f records/s", routingRate,
                        String.format("%.3f × pass-through, median of the rounds' ratios (target ≥ 0.8)", ratio));
                out.printf("  routing-streams: %,.0f records/s (%.3f × pass-through)%n", routingRate, ratio);
                row("routing-streams with trace.retention.ms=0 (no routing traces), median of " + rounds + " rounds", "%,.0f records/s", median(untracedRates),
                        String.format("context: %.3f × pass-through, median of the rounds' ratios", untracedRatio));
                out.printf("  routing-streams without traces: %,.0f records/s (%.3f × pass-through)%n", median(untracedRates),
                        untracedRatio);
            }
            batchIngestRounds(out, bootstrap);
        }
    }

    /**
     * The front door alone on the bare broker, as the topologies run: request lines accepted per second through its batch
     * endpoint against the raw producer, in paired rounds after warm-up rounds. Nothing reads the requests, so this is the
     * cost of HTTP, validation and the event's JSON on top of the producer.
     */
    private void batchIngestRounds(PrintStream out, String bootstrap) throws Exception {
        var config = IngestConfig.from(Settings.of(Map.of("bootstrap.servers", bootstrap, "http.port", "0",
                "ingest.id", "bench-ingest")));
        try (FrontDoor frontDoor = FrontDoor.start(config, new SimpleMeterRegistry())) {
            var batches = new BatchIngestThroughput(frontDoor.uri(), batchSize, batchInFlight);
            if (batchWarmupLines > 0) {
                // The front door alone in a new JVM on 2 cores kept the JIT compiler busy for 2.7 million lines
                // (-XX:+PrintCompilation). Rounds of 300,000 lines ran at 55,000 lines/s, then 97,000, and at 220,000
                // to 280,000 from the tenth round on.
                out.printf("  front door warm-up: %,d request lines through the batch endpoint%n", batchWarmupLines);
                out.printf("  front door warm-up: %,.0f requests/s accepted (not counted)%n", batches.run(batchWarmupLines));
            }
            double[] producerRates = new double[rounds];
            double[] acceptedRates = new double[rounds];
            for (int round = -warmupRounds; round < rounds; round++) {
                double[] rates = runPair(() -> KafkaBaselines.producerThroughput(bootstrap, "bench.raw", records),
                        () -> batches.run(records), Math.floorMod(round, 2) == 1);
                double producerRate = rates[0];
                double acceptedRate = rates[1];
                String name = round < 0 ? "warm-up round " + (round + warmupRounds + 1) + " of " + warmupRounds
                        : "round " + (round + 1) + " of " + rounds;
                out.printf("  %s: raw producer %,.0f records/s, front door batches %,.0f requests/s accepted (%.2f ×)%n",
                        name, producerRate, acceptedRate, acceptedRate / producerRate);
                if (round >= 0) {
                    producerRates[round] = producerRate;
                    acceptedRates[round] = acceptedRate;
                }
            }
            double ratio = medianRatio(acceptedRates, producerRates);
            row("raw producer, paired with the batch rounds, median of " + rounds + " rounds", "%,.0f records/s",
                    median(producerRates), "baseline");
            row(String.format("front door, accepted requests/s: POST /_backbone/requests, %d lines a call, %d calls in "
                    + "flight, median of %d rounds", batchSize, batchInFlight, rounds), "%,.0f requests/s",
                    median(acceptedRates), String.format("%.3f × raw producer, median of the rounds' ratios (target ≥ 0.5)", ratio));
            out.printf("  front door batches: %,.0f requests/s accepted (%.3f × raw producer)%n", median(acceptedRates), ratio);
        }
    }

    /**
     * Runs the pass-through topology and {@code routing-streams}, each as a new application that reads the preloaded
     * requests from the start, until {@code count} outputs arrived, and {@code routing-streams} with
     * {@code trace.retention.ms=0} the same way. The order of the three rotates with {@code round}, so that none always
     * runs on the warmest JVM. Returns the three rates in records per second: pass-through, routing-streams,
     * routing-streams without traces.
     */
    private static double[] streamsRound(String bootstrap, Path stateDir, String suffix, int count, int round)
            throws Exception {
        RoutingConfig routingConfig = benchRoutingConfig(bootstrap, stateDir, "bench-routing" + suffix, "600000");
        RoutingConfig untracedConfig = benchRoutingConfig(bootstrap, stateDir, "bench-routing-untraced" + suffix, "0");
        var passThroughProps = StreamsThroughput.withApplicationId(routingConfig.streamsProperties(), "bench-pass-through" + suffix,
                stateDir.resolve("pass-through" + suffix).toString());
        Callable<Double> passThrough = () -> StreamsThroughput.drain(bootstrap,
                StreamsThroughput.plain(StreamsThroughput.passThrough("bench.pass-through-out"), passThroughProps),
                "bench.pass-through-out", count, Duration.ofMinutes(5));
        List<Callable<Double>> runs = List.of(passThrough, () -> routingRate(bootstrap, routingConfig, count),
                () -> routingRate(bootstrap, untracedConfig, count));
        double[] rates = new double[runs.size()];
        for (int i = 0; i < runs.size(); i++) {
            int run = Math.floorMod(i + round, runs.size());
            rates[run] = runs.get(run).call();
        }
        return rates;
    }

    /** Returns the configuration of a bench routing application; {@code traceRetentionMs} "0" stores no traces. */
    private static RoutingConfig benchRoutingConfig(String bootstrap, Path stateDir, String applicationId, String traceRetentionMs) {
        return RoutingConfig.from(Settings.of(Map.of(
                "bootstrap.servers", bootstrap,
                "application.id", applicationId,
                "state.dir", stateDir.resolve(applicationId).toString(),
                "rest.port", "0",
                "heartbeat.timeout.ms", "600000",
                "trace.retention.ms", traceRetentionMs)));
    }

    /** Starts routing-streams as a new application and returns its rate over the preloaded requests. */
    private static double routingRate(String bootstrap, RoutingConfig config, int count) {
        return StreamsThroughput.drain(bootstrap, onRunning -> {
            RoutingService service = RoutingService.start(config, new SimpleMeterRegistry());
            if (!service.awaitRunning(Duration.ofSeconds(60))) {
                service.close();
                throw new IllegalStateException("routing-streams did not reach RUNNING within 60 s");
            }
            onRunning.run();
            return service;
        }, Topics.ROUTED_REQUESTS.name(), count, Duration.ofMinutes(5));
    }

    /**
     * Runs a baseline and its measured counterpart one after the other and returns both results, the baseline's first.
     * Rounds alternate the order, so that neither always runs on the warmer JVM or the longer log.
     */
    private static double[] runPair(Callable<Double> baseline, Callable<Double> measured, boolean measuredFirst) throws Exception {
        if (measuredFirst) {
            double measuredResult = measured.call();
            return new double[]{baseline.call(), measuredResult};
        }
        double baselineResult = baseline.call();
        return new double[]{baselineResult, measured.call()};
    }

    /** Writes the routing input: requests for shop.example.com from 1,000 clients, plus its DNS record. */
    private static void preloadRequests(String bootstrap, int count) throws Exception {
        try (var producer = new KafkaProducer<>(KafkaBaselines.producerConfig(bootstrap), new StringSerializer(), new StringSerializer())) {
            var dns = new DnsRecord(DnsRecord.SCHEMA_VERSION, "shop.example.com", DnsRecord.GLOBAL, DnsRecord.Type.A,
                    List.of("lb-1", "lb-2"), null, 60, 1);
            producer.send(new ProducerRecord<>(Topics.DNS_RECORDS.name(), dns.key(),
                    new String(Topics.DNS_RECORDS.valueSerde().serializer().serialize("", dns), java.nio.charset.StandardCharsets.UTF_8)));
        }
        try (var producer = new KafkaProducer<>(KafkaBaselines.producerConfig(bootstrap), new StringSerializer(),
                Topics.CLIENT_REQUESTS.valueSerde().serializer())) {
            long now = System.currentTimeMillis();
            for (int i = 0; i < count; i++) {
                String client = "client-" + (i % 1000);
                var request = new ClientRequest(ClientRequest.SCHEMA_VERSION, "bench-" + i, client, "eu-west", "DE",
                        "shop.example.com", "GET", "/products/" + (1 + i % 10_000), "", Map.of("accept", "*/*"), null,
                        "bench", 0, now, now + 3_600_000);
                producer.send(new ProducerRecord<>(Topics.CLIENT_REQUESTS.name(), client, request));
            }
            producer.flush();
        }
    }

    /**
     * Announces three app servers every 500 ms, as running app servers would, so the load balancer has members.
     * Closing the result stops the announcements and closes their producer.
     */
    private static AutoCloseable startAppServerHeartbeats(String bootstrap) {
        var producer = new KafkaProducer<>(KafkaBaselines.producerConfig(bootstrap), new StringSerializer(),
                Topics.LB_HEARTBEATS.valueSerde().serializer());
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        long[] sequence = {0};
        executor.scheduleAtFixedRate(() -> {
            sequence[0]++;
            for (int i = 0; i < 3; i++) {
                var heartbeat = new Heartbeat(Heartbeat.SCHEMA_VERSION, "app-" + i, Heartbeat.Kind.APP_SERVER, "shop",
                        Heartbeat.State.UP, List.of(i * 4, i * 4 + 1, i * 4 + 2, i * 4 + 3), 1, sequence[0], System.currentTimeMillis());
                producer.send(new ProducerRecord<>(Topics.LB_HEARTBEATS.name(), heartbeat.serverId(), heartbeat));
            }
        }, 0, 500, TimeUnit.MILLISECONDS);
        return () -> {
            executor.shutdownNow();
            executor.awaitTermination(5, TimeUnit.SECONDS);
            producer.close(Duration.ofSeconds(5));
        };
    }

    /** Measures the front door on the whole one-JVM stack against the raw producer and raw round trip on that broker. */
    private void httpPhase(PrintStream out) throws Exception {
        out.println("Phase 2: the HTTP front door on the one-JVM stack");
        try (LocalStack stack = LocalStack.start(StackOptions.ephemeral(2, 10_000, 100), step -> out.println("  " + step))) {
            String bootstrap = stack.bootstrapServers();
            KafkaBaselines.createTopic(bootstrap, "bench.raw", Topics.CLIENT_REQUESTS.partitions());
            double producerRate = KafkaBaselines.producerThroughput(bootstrap, "bench.raw", records);
            out.printf("  raw producer on the stack's broker: %,.0f records/s%n", producerRate);

            if (httpWarmupRequests > 0) {
                // The JIT compiles the request path for the first tens of seconds. Without this warm-up, the compiler
                // threads took over a third of all CPU samples of a run.
                out.printf("  warm-up: %,d requests with %d in flight%n", httpWarmupRequests, httpConcurrency);
                var warmup = new Workload(stack.frontDoorUri(), LocalStack.SITE,
                        new Workload.Options(httpWarmupRequests, httpConcurrency, 0.0, 1.0, 10_000, 1000, 3), null);
                warmup.run(new PrintStream(java.io.OutputStream.nullOutputStream()));
            }
            var workload = new Workload(stack.frontDoorUri(), LocalStack.SITE,
                    new Workload.Options(httpRequests, httpConcurrency, 0.0, 1.0, 10_000, 1000, 7), null);
            RunResult max = workload.run(new PrintStream(java.io.OutputStream.nullOutputStream()));
            double accepted = max.count(200, 299) / (max.elapsed().toNanos() / 1e9);
            row("front door, answered requests/s (" + httpConcurrency + " in flight, reads)", "%,.0f requests/s", accepted,
                    String.format("%.3f × raw producer %,.0f records/s (context: each request waits for its answer; the "
                            + "batch endpoint row carries the target)", accepted / producerRate, producerRate));
            out.printf("  front door: %,.0f requests/s answered (%.3f × raw producer)%n", accepted, accepted / producerRate);

            double rate = Math.max(10, Math.floor(accepted * 0.5));
            Histogram http = httpLatency(stack, rate, Duration.ofSeconds(latencySeconds), httpConcurrency);
            KafkaBaselines.createTopic(bootstrap, "bench.round-trip", 1);
            Histogram kafkaRoundTrip = KafkaBaselines.roundTrip(bootstrap, "bench.round-trip", rate, Duration.ofSeconds(latencySeconds));
            double ratio = http.getValueAtPercentile(99) / (double) kafkaRoundTrip.getValueAtPercentile(99);
            row(String.format("HTTP round trip at %,.0f requests/s (50%% of max), p50 / p99", rate), "%s",
                    percentiles(http), String.format("p99 %.1f × raw Kafka round trip p99 (target ≤ 5)", ratio));
            row(String.format("raw Kafka round trip at %,.0f records/s, p50 / p99", rate), "%s", percentiles(kafkaRoundTrip), "baseline");
            out.printf("  HTTP p99 %.1f ms vs raw Kafka p99 %.1f ms at %,.0f/s: %.1f ×%n", http.getValueAtPercentile(99) / 1000.0,
                    kafkaRoundTrip.getValueAtPercentile(99) / 1000.0, rate, ratio);

            // Context for both front-door figures: the same three hops in raw Kafka, without HTTP or any logic.
            try (var hops = new KafkaBaselines.ThreeHops(bootstrap, "bench.hop", Topics.CLIENT_REQUESTS.partitions())) {
                hops.awaitReady();
                double hopRate = hops.closedLoopRate(httpRequests, httpConcurrency);
                Histogram hopLatency = hops.fixedRate(rate, Duration.ofSeconds(latencySeconds));
                row("raw Kafka three-hop round trip (client → relay → relay → client), " + httpConcurrency + " in flight",
                        "%,.0f round trips/s", hopRate,
                        String.format("context: the front door answers %.2f × this rate", accepted / hopRate));
                row(String.format("raw Kafka three-hop round trip at %,.0f records/s, p50 / p99", rate), "%s", percentiles(hopLatency),
                        String.format("context: HTTP p99 is %.1f × this p99",
                                http.getValueAtPercentile(99) / (double) hopLatency.getValueAtPercentile(99)));
                out.printf("  raw three hops: %,.0f round trips/s with %d in flight; p99 %.1f ms at %,.0f/s%n", hopRate,
                        httpConcurrency, hopLatency.getValueAtPercentile(99) / 1000.0, rate);
            }
        }
    }

    /** Measures start-to-ready time and peak RSS of the default demo, run as its own process as the README shows. */
    private void demoProcessPhase(PrintStream out) throws Exception {
        out.println("Phase 3: backbone demo as a child process (default options)");
        if (!Files.isRegularFile(launcherJar)) {
            throw new IllegalStateException("launcher jar not found at " + launcherJar.toAbsolutePath() + "; build it with ./backbone --help");
        }
        DemoProcessProbe.Result result = DemoProcessProbe.run(launcherJar, List.of(), List.of(), Duration.ofMinutes(10));
        row("backbone demo: process start to stack ready", "%.1f s", result.readyAfter().toMillis() / 1000.0, "target ≤ 15 s");
        row("backbone demo: peak RSS (VmHWM)", "%.2f GiB", result.peakRssKiB() / (1024.0 * 1024), "target ≤ 1.5 GiB");
        out.printf("  demo ready after %.1f s, peak RSS %.2f GiB, exit code %d%n", result.readyAfter().toMillis() / 1000.0,
                result.peakRssKiB() / (1024.0 * 1024), result.exitCode());
        if (result.exitCode() != 0) {
            throw new IllegalStateException("backbone demo exited with " + result.exitCode());
        }
    }

    /**
     * Measures the HTTP round trip at {@code rate} in an open loop. The requests go over the benchmark's own keep-alive
     * sockets rather than {@code java.net.http.HttpClient}: in a probe of this run at 500 requests/s, that client's
     * threads took about a tenth of the CPU and about doubled the p50 (19.3 against 9.0 ms) on 2 shared cores.
     */
    private static Histogram httpLatency(LocalStack stack, double rate, Duration duration, int connections)
            throws InterruptedException {
        long total = Math.round(rate * duration.toSeconds());
        var random = new java.util.SplittableRandom(11);
        var zipf = new dev.backbone.launcher.ZipfDistribution(10_000, 1.0);
        Iterator<OpenLoopRunner.Scheduled> schedule = OpenLoopRunner.constantRate(total, rate, offsetNanos -> {
            var request = new RequestSender.Request("GET", "/products/" + zipf.sample(random), LocalStack.SITE,
                    "client-" + random.nextInt(1000), "eu-west", "DE", null);
            return new OpenLoopRunner.Scheduled(offsetNanos, request, false);
        });
        try (var sender = new SocketRequestSender(stack.frontDoorUri(), connections)) {
            RunResult result = new OpenLoopRunner(sender, 1024, new PrintStream(java.io.OutputStream.nullOutputStream())).run(schedule, total);
            if (result.count(200, 299) != total) {
                throw new IllegalStateException("latency run had non-2xx responses: " + result.statusCounts());
            }
            return result.latencyMicros();
        }
    }

    /** Returns the median of the rounds' ratios {@code measured[i] / baseline[i]}. */
    static double medianRatio(double[] measured, double[] baseline) {
        double[] ratios = new double[measured.length];
        for (int i = 0; i < measured.length; i++) {
            ratios[i] = measured[i] / baseline[i];
        }
        return median(ratios);
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static String percentiles(Histogram histogram) {
        return String.format("%.1f / %.1f ms", histogram.getValueAtPercentile(50) / 1000.0, histogram.getValueAtPercentile(99) / 1000.0);
    }

    private void row(String what, String format, Object value, String comparison) {
        rows.add("| " + what + " | " + String.format(format, value) + " | " + comparison + " |");
    }

    private String report() {
        var lines = new ArrayList<String>();
        lines.add("| measurement | result | ratio |");
        lines.add("|---|---|---|");
        lines.addAll(rows);
        return String.join(System.lineSeparator(), lines);
    }
}
