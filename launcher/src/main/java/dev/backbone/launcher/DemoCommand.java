package dev.backbone.launcher;

import dev.backbone.appserver.AppServer;
import dev.backbone.appserver.AppServerStats;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code backbone demo}: starts the stack, runs a workload through the front door, prints a summary, stops. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Starts the whole stack in one JVM, runs a workload through the front door, prints a summary and stops. "
                + "Exits 0 when no request failed with 5xx or a transport error.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--requests", defaultValue = "20000", description = "Requests to send (default: ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--concurrency", defaultValue = "32", description = "Requests in flight at most (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--write-ratio", defaultValue = "0.03", description = "Share of requests that update a product, 0 to 1 (default: ${DEFAULT-VALUE}).")
    double writeRatio;

    @Option(names = "--zipf", defaultValue = "1.0", description = "Zipf exponent of product popularity; 0 is uniform (default: ${DEFAULT-VALUE}).")
    double zipfExponent;

    @Option(names = "--products", defaultValue = "10000", description = "Products to seed (default: ${DEFAULT-VALUE}).")
    int products;

    @Option(names = "--categories", defaultValue = "100", description = "Categories to seed (default: ${DEFAULT-VALUE}).")
    int categories;

    @Option(names = "--app-servers", defaultValue = "2", description = "App servers to run (default: ${DEFAULT-VALUE}).")
    int appServers;

    @Option(names = "--dashboard-port", description = "Also serve the live dashboard and metrics on this port of "
            + "127.0.0.1 while the demo runs; 0 picks a free one (default: off).")
    Integer dashboardPort;

    @Option(names = "--redis", paramLabel = "URI", defaultValue = "", description = "Redis for the shared L2 cache tier, "
            + "such as redis://127.0.0.1:6379 (default: no L2 tier).")
    String redisUri;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed of the workload (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        validate();
        PrintStream out = System.out;
        out.println("Backbone demo: starting the stack on the embedded default");
        try (LocalStack stack = LocalStack.start(StackOptions.ephemeral(appServers, products, categories).withRedis(redisUri), step -> out.println("  " + step));
             ObservabilityServer observability = dashboardPort == null ? null : ObservabilityServer.start("127.0.0.1", dashboardPort, stack)) {
            if (observability != null) {
                out.println("Live dashboard: " + observability.uri().resolve("/dashboard"));
            }
            out.printf("Stack ready in %.1f s; front door %s%n", stack.startUpTime().toMillis() / 1000.0, stack.frontDoorUri());
            out.printf("Running %,d requests (%.0f%% writes, Zipf %.2f over %,d products, %d in flight)%n",
                    requests, writeRatio * 100, zipfExponent, products, concurrency);
            var workload = new Workload(stack.frontDoorUri(), LocalStack.SITE,
                    new Workload.Options(requests, concurrency, writeRatio, zipfExponent, products, 1000, seed),
                    stack.mintToken("demo", Duration.ofHours(1)));
            RunResult result = workload.run(out);
            awaitEvictions(stack, result.writesAccepted());
            DemoSummary.print(out, result, stack.appServers());
            out.println("Stopping the stack");
            int exitCode = result.count(500, 599) + result.count(0, 0) == 0 ? 0 : 1;
            if (exitCode != 0) {
                System.err.println("demo failed: " + (result.count(500, 599) + result.count(0, 0))
                        + " requests ended in 5xx or a transport error; see the log above");
            }
            if (observability != null) {
                observability.close();
            }
            stack.close();
            out.println("Stopped cleanly");
            return exitCode;
        }
    }

    private void validate() {
        if (requests < 1 || concurrency < 1 || products < 1 || categories < 1 || appServers < 1) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--requests, --concurrency, --products, --categories and --app-servers must be >= 1");
        }
        if (!(writeRatio >= 0 && writeRatio <= 1)) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--write-ratio must be from 0 to 1, got " + writeRatio);
        }
    }

    /** Waits up to 10 s until every app server has evicted once per accepted write, so the lag figures are complete. */
    private static void awaitEvictions(LocalStack stack, long writes) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            boolean complete = stack.appServers().stream().allMatch(server -> server.stats().evictionLagMs().getTotalCount() >= writes);
            if (complete) {
                return;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
        }
    }
}
