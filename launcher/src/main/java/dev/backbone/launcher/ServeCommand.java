package dev.backbone.launcher;

import java.io.PrintStream;
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
        LocalStack stack = LocalStack.start(new StackOptions(port, apiPort, adminToken, authSecret, redisUri, appServers,
                products, categories), step -> out.println("  " + step));
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
        out.println("Try:");
        out.println("  curl -H 'Host: " + LocalStack.SITE + "' " + stack.frontDoorUri().resolve("/products/42"));
        out.println("  ./backbone dns list --api " + stack.routingApiUri());
        out.flush();
        stopped.await();
        return 0;
    }
}
