package dev.backbone.launcher;

import java.io.PrintStream;
import dev.backbone.ingest.IngestConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code backbone serve}: keeps the stack up until interrupted and prints how to reach it. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Starts the whole stack in one JVM and keeps it up until Ctrl-C, printing the front door URL, "
                + "the JDBC URL and the Kafka bootstrap servers.")
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "8080", description = "Front-door HTTP port on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--api-port", defaultValue = "8081", description = "Port of the routing layer's REST API (DNS admin, "
            + "interactive queries, metrics) on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int apiPort;

    @Option(names = "--dashboard-port", defaultValue = "8079", description = "Port of the metrics and live dashboard "
            + "server on 127.0.0.1 (/dashboard, /metrics/{component}, /api/dashboard); 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int dashboardPort;

    @Option(names = "--redis", paramLabel = "URI", defaultValue = "", description = "Redis for the shared L2 cache tier, "
            + "such as redis://127.0.0.1:6379 (default: no L2 tier).")
    String redisUri;

    @Option(names = "--products", defaultValue = "10000", description = "Products to seed (default: ${DEFAULT-VALUE}).")
    int products;

    @Option(names = "--categories", defaultValue = "100", description = "Categories to seed (default: ${DEFAULT-VALUE}).")
    int categories;

    @Option(names = "--app-servers", defaultValue = "2", description = "App servers to run (default: ${DEFAULT-VALUE}).")
    int appServers;

    @Option(names = "--rate-limit", paramLabel = "PER_SECOND", defaultValue = "0", description = "Requests per second "
            + "the front door accepts from each client (X-Client-Id, else the client address); more get 429 with "
            + "Retry-After. May be fractional, such as 0.5; 0 turns the limit off (default: ${DEFAULT-VALUE}).")
    double rateLimit;

    @Option(names = "--rate-limit-burst", paramLabel = "REQUESTS", defaultValue = "0", description = "Requests a client "
            + "may send at once before --rate-limit applies; 0 takes the rate rounded up (default: ${DEFAULT-VALUE}).")
    int rateLimitBurst;

    @Option(names = "--tls", description = "Serve the front door and the CDN edges over HTTPS with a new self-signed "
            + "certificate for localhost and 127.0.0.1, written to --tls-dir.")
    boolean tls;

    @Option(names = "--tls-dir", paramLabel = "DIR", description = "Directory of the self-signed certificate "
            + "(backbone-localhost.pem) and its PKCS12 key store (default: ~/.backbone/tls).")
    Path tlsDirectory;

    /**
     * Returns what is wrong with the sizes and ports, or {@code null}. The ports are tried here, before anything starts,
     * so that a busy port fails at once and names its option.
     */
    String optionProblem() {
        if (products < 1 || categories < 1 || appServers < 1) {
            return "--products, --categories and --app-servers must be at least 1; got " + products + ", " + categories
                    + " and " + appServers;
        }
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put("--port", port);
        ports.put("--api-port", apiPort);
        ports.put("--dashboard-port", dashboardPort);
        for (Map.Entry<String, Integer> option : ports.entrySet()) {
            int value = option.getValue();
            if (value < 0 || value > 65535) {
                return option.getKey() + " " + value + " is not a port; use 0 to 65535 (0 picks a free one)";
            }
            if (value == 0) {
                continue;
            }
            try (var socket = new java.net.ServerSocket()) {
                socket.bind(new java.net.InetSocketAddress("127.0.0.1", value));
            } catch (java.io.IOException e) {
                return option.getKey() + " " + value + ": 127.0.0.1:" + value + " is in use (" + e.getMessage()
                        + "); stop what listens there or choose another port, 0 for a free one";
            }
        }
        return null;
    }

    /** Returns the default directory of the self-signed certificate: {@code ~/.backbone/tls}. */
    static Path defaultTlsDirectory() {
        return Path.of(System.getProperty("user.home"), ".backbone", "tls");
    }

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        out.println("Backbone: starting the stack on the embedded default");
        String configuredToken = System.getenv("BACKBONE_ADMIN_TOKEN");
        boolean generatedToken = configuredToken == null || configuredToken.isBlank();
        String adminToken = generatedToken ? StackOptions.randomToken() : configuredToken;
        if (adminToken.length() < 16) {
            System.err.println("BACKBONE_ADMIN_TOKEN must have at least 16 characters; unset it to get a random one");
            return 2;
        }
        String configuredSecret = System.getenv("BACKBONE_AUTH_SECRET");
        boolean generatedSecret = configuredSecret == null || configuredSecret.isBlank();
        String authSecret = generatedSecret ? StackOptions.randomToken() + StackOptions.randomToken() : configuredSecret;
        if (authSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
            System.err.println("BACKBONE_AUTH_SECRET must have at least 32 bytes; unset it to get a random one");
            return 2;
        }
        String rateLimitProblem = rateLimitProblem(rateLimit, rateLimitBurst);
        if (rateLimitProblem != null) {
            System.err.println(rateLimitProblem);
            return 2;
        }
        String optionProblem = optionProblem();
        if (optionProblem != null) {
            System.err.println(optionProblem);
            return 2;
        }
        Path certificateDirectory = tls ? (tlsDirectory == null ? defaultTlsDirectory() : tlsDirectory) : null;
        if (!tls && tlsDirectory != null) {
            System.err.println("--tls-dir is set but --tls is not; add --tls to serve HTTPS, or remove --tls-dir");
            return 2;
        }
        LocalStack stack = LocalStack.start(new StackOptions(port, apiPort, adminToken, authSecret, redisUri, appServers,
                products, categories, rateLimit, rateLimitBurst, certificateDirectory), step -> out.println("  " + step));
        ObservabilityServer observability;
        try {
            observability = ObservabilityServer.start("127.0.0.1", dashboardPort, stack);
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("Stopping the stack");
            observability.close();
            stack.close();
            out.println("Stopped cleanly");
            stopped.countDown();
        }, "backbone-shutdown"));
        out.printf("Backbone is up (started in %.1f s). Press Ctrl-C to stop.%n", stack.startUpTime().toMillis() / 1000.0);
        out.println("  front door         " + stack.frontDoorUri());
        out.println("  JDBC URL           " + stack.jdbcUrl());
        out.println("  psql               psql " + stack.psqlUri());
        out.println("  Kafka bootstrap    " + stack.bootstrapServers());
        out.println("  routing API        " + stack.routingApiUri() + " (DNS admin, interactive queries, /metrics)");
        out.println("  admin token        " + (generatedToken ? adminToken + " (random; set BACKBONE_ADMIN_TOKEN to choose one)"
                : "from BACKBONE_ADMIN_TOKEN"));
        out.println("  dashboard          " + observability.uri().resolve("/dashboard"));
        out.println("  metrics            " + observability.uri().resolve("/metrics") + " (Prometheus text per component)");
        stack.edgeUris().forEach((region, uri) -> out.printf("  CDN edge %-9s %s%n", region, uri));
        out.println("  auth secret        " + (generatedSecret ? authSecret + " (random; set BACKBONE_AUTH_SECRET to choose one)"
                : "from BACKBONE_AUTH_SECRET"));
        out.println("  token (user demo)  " + stack.mintToken("demo", java.time.Duration.ofHours(24)) + " (valid 24 h)");
        out.println("  rate limit         " + (rateLimit > 0 ? rateLimit + " requests/s per client, bursts of "
                + (rateLimitBurst > 0 ? rateLimitBurst : (int) Math.ceil(rateLimit)) : "off (--rate-limit sets one)"));
        String curlTrust = stack.certificate().map(certificate -> "--cacert " + certificate.certificatePem() + " ").orElse("");
        stack.certificate().ifPresent(certificate -> out.println("  TLS certificate    " + certificate.certificatePem()
                + " (self-signed for localhost and 127.0.0.1, valid until " + certificate.certificate().getNotAfter().toInstant()
                + "; its key store is beside it)"));
        out.println("Try:");
        out.println("  curl " + curlTrust + "-H 'Host: " + LocalStack.SITE + "' " + stack.frontDoorUri().resolve("/products/42"));
        out.println("  ./backbone dns list --api " + stack.routingApiUri());
        out.flush();
        stopped.await();
        return 0;
    }

    /** Returns what is wrong with the rate-limit options, or null when they are valid. */
    static String rateLimitProblem(double perSecond, int burst) {
        double min = IngestConfig.RateLimit.MIN_RATE_PER_SECOND;
        double max = IngestConfig.RateLimit.MAX_RATE_PER_SECOND;
        if (!(perSecond == 0 || perSecond >= min && perSecond <= max)) {
            return "--rate-limit=" + perSecond + " is out of range; accepted: 0 (no limit) or requests per second from "
                    + min + " to " + max;
        }
        if (burst < 0 || burst > IngestConfig.RateLimit.MAX_BURST) {
            return "--rate-limit-burst=" + burst + " is out of range; accepted: 0 (the rate rounded up) or 1 to "
                    + IngestConfig.RateLimit.MAX_BURST;
        }
        if (perSecond == 0 && burst > 0) {
            return "--rate-limit-burst is set but --rate-limit is not; add --rate-limit, such as --rate-limit 10";
        }
        return null;
    }
}
