package dev.backbone.launcher;

import java.net.URI;
import java.time.Duration;
import java.util.Iterator;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code backbone load}: an open-loop load generator against any front door, or straight into Kafka. */
@Command(name = "load", mixinStandardHelpOptions = true,
        description = "Sends requests at a constant rate (open loop) to a front door or as events to Kafka, with a "
                + "progress bar and an HdrHistogram latency summary measured from each request's intended send time.")
final class LoadCommand implements Callable<Integer> {

    enum Target { http, kafka }

    enum Keys { uniform, zipf }

    @Option(names = "--url", defaultValue = "http://127.0.0.1:8080/", description = "Front-door base URL (default: ${DEFAULT-VALUE}).")
    URI url;

    @Option(names = "--host", defaultValue = "shop.example.com", description = "Site in the Host header (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--rate", defaultValue = "200", description = "Requests per second (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--duration", defaultValue = "30", description = "Seconds to send for (default: ${DEFAULT-VALUE}).")
    double durationSeconds;

    @Option(names = "--max-in-flight", defaultValue = "256", description = "Requests awaiting a response at most; "
            + "when reached, sending waits and the wait counts in the latency (default: ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(names = "--keys", defaultValue = "zipf", description = "Product id distribution: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Keys keys;

    @Option(names = "--zipf-exponent", defaultValue = "1.0", description = "Zipf exponent, with --keys zipf (default: ${DEFAULT-VALUE}).")
    double zipfExponent;

    @Option(names = "--products", defaultValue = "10000", description = "Product ids are 1 to this (default: ${DEFAULT-VALUE}).")
    int products;

    @Option(names = "--write-ratio", defaultValue = "0.03", description = "Share of PUTs, 0 to 1 (default: ${DEFAULT-VALUE}).")
    double writeRatio;

    @Option(names = "--clients", defaultValue = "1000", description = "Distinct client ids (default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--regions", defaultValue = RegionMix.DEFAULT, description = "Region mix, " + RegionMix.FORMAT + " (default: ${DEFAULT-VALUE}).")
    String regions;

    @Option(names = "--to", defaultValue = "http", description = "Where to send: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Target target;

    @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers, with --to kafka.")
    String bootstrapServers;

    @Option(names = "--reply-partition", defaultValue = "5", description = "Partition of backbone.responses that the app servers write "
            + "responses to, with --to kafka; pick one no front door reads (default: ${DEFAULT-VALUE}).")
    int replyPartition;

    @Option(names = "--token", defaultValue = "${env:BACKBONE_TOKEN}", description = "Bearer token sent with writes "
            + "(mint one with backbone token; default: the BACKBONE_TOKEN environment variable).")
    String bearerToken;

    @Option(names = "--timeout", defaultValue = "30", description = "Seconds to wait for one response (default: ${DEFAULT-VALUE}).")
    double timeoutSeconds;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        RegionMix mix = validate();
        long total = Math.max(1, Math.round(rate * durationSeconds));
        try (RequestSender sender = target == Target.kafka
                ? new KafkaRequestSender(bootstrapServers, replyPartition, (long) (timeoutSeconds * 1000))
                : new HttpRequestSender(url, Duration.ofMillis((long) (timeoutSeconds * 1000)), bearerToken)) {
            System.out.printf("Sending %,d requests at %,.0f/s for %.0f s to %s (%s keys, %.0f%% writes)%n", total, rate,
                    durationSeconds, target == Target.kafka ? "Kafka at " + bootstrapServers : url, keys, writeRatio * 100);
            if (writeRatio > 0 && target == Target.http && (bearerToken == null || bearerToken.isBlank())) {
                System.out.println("Note: writes carry no bearer token, so the app servers answer them 401; pass --token "
                        + "or set BACKBONE_TOKEN (mint one with backbone token)");
            }
            RunResult result = new OpenLoopRunner(sender, maxInFlight, System.out).run(schedule(total, mix), total);
            LatencyReport.print(System.out, "Load summary", result);
            return result.count(0, 0) + result.count(500, 599) == 0 ? 0 : 1;
        }
    }

    private RegionMix validate() {
        if (!(rate > 0) || !(durationSeconds > 0) || !(timeoutSeconds > 0)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rate, --duration and --timeout must be > 0");
        }
        if (maxInFlight < 1 || products < 1 || clients < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--max-in-flight, --products and --clients must be >= 1");
        }
        if (!(writeRatio >= 0 && writeRatio <= 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--write-ratio must be from 0 to 1, got " + writeRatio);
        }
        if (target == Target.kafka && (bootstrapServers == null || bootstrapServers.isBlank())) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--to kafka needs --bootstrap-servers, such as 127.0.0.1:9092");
        }
        try {
            return RegionMix.parse(regions);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--regions: " + e.getMessage());
        }
    }

    private Iterator<OpenLoopRunner.Scheduled> schedule(long total, RegionMix mix) {
        var random = new SplittableRandom(seed);
        var zipf = keys == Keys.zipf ? new ZipfDistribution(products, zipfExponent) : null;
        return OpenLoopRunner.constantRate(total, rate, offsetNanos -> {
            int productId = zipf != null ? zipf.sample(random) : 1 + random.nextInt(products);
            String clientId = "client-" + random.nextInt(clients);
            RegionMix.Region region = mix.forClient(clientId);
            boolean write = random.nextDouble() < writeRatio;
            String body = write ? "{\"priceCents\":" + (100 + random.nextInt(100_000)) + "}" : null;
            var request = new RequestSender.Request(write ? "PUT" : "GET", "/products/" + productId, host, clientId,
                    region.name(), region.country(), body);
            return new OpenLoopRunner.Scheduled(offsetNanos, request, write);
        });
    }
}
