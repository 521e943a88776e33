package dev.backbone.launcher;

import dev.backbone.launcher.cluster.Cluster;
import dev.backbone.launcher.cluster.ClusterOptions;
import dev.backbone.launcher.cluster.ServiceProcess;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code backbone cluster}: every service as a JVM of its own on 127.0.0.1, until Ctrl-C or {@code --duration}. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Starts the embedded broker and PostgreSQL in this process and every service as a JVM of its own on "
                + "127.0.0.1 (cache invalidator, routing-streams, app servers, front door, CDN edges), prints each "
                + "service's process id, ports and log file, and stops them all on Ctrl-C.")
final class ClusterCommand implements Callable<Integer> {

    /** The accepted forms of {@code --edges}, for the error messages about "none". */
    private static final String EDGES_RULE = "accepted: \"none\" alone, or regions such as us-east,eu-west";

    @Option(names = "--port", defaultValue = "8080", description = "Front-door HTTP port on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--routing", defaultValue = "2", description = "routing-streams JVMs; the first is the active load "
            + "balancer, the others standbys (default: ${DEFAULT-VALUE}).")
    int routing;

    @Option(names = "--app-servers", defaultValue = "3", description = "App-server JVMs (default: ${DEFAULT-VALUE}).")
    int appServers;

    @Option(names = "--edges", split = ",", defaultValue = "us-east,eu-west", description = "Regions that get a CDN edge "
            + "JVM, comma-separated; \"none\" for no edge (default: ${DEFAULT-VALUE}).")
    List<String> edges;

    @Option(names = "--redis", paramLabel = "URI", defaultValue = "", description = "Redis for the shared L2 cache tier, "
            + "such as redis://127.0.0.1:6379 (default: no L2 tier).")
    String redisUri;

    @Option(names = "--products", defaultValue = "1000", description = "Products to seed (default: ${DEFAULT-VALUE}).")
    int products;

    @Option(names = "--dir", paramLabel = "DIR", description = "Directory for every service's properties file, log "
            + "and state (default: a temporary directory, deleted at the end).")
    Path dir;

    @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "0", description = "Stop after this many seconds; "
            + "0 runs until Ctrl-C (default: ${DEFAULT-VALUE}).")
    long durationSeconds;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        ClusterOptions options;
        try {
            List<String> regions = edgeRegions(edges);
            options = ClusterOptions.defaults().withHttpPort(port).withShape(routing, appServers, regions)
                    .withRedis(redisUri).withWorkDir(dir);
            options = new ClusterOptions(options.httpPort(), options.routingInstances(), options.appServers(),
                    options.edgeRegions(), products, Math.max(1, Math.min(100, products / 10)), options.adminToken(),
                    options.authSecret(), options.redisUri(), options.workDir(), options.jvmOptions());
        } catch (IllegalArgumentException e) {
            System.err.println("backbone cluster: " + e.getMessage());
            return 2;
        }
        edgeWarnings(options.edgeRegions()).forEach(warning -> System.err.println("backbone cluster: warning: " + warning));
        out.println("Backbone: starting a multi-process cluster on 127.0.0.1");
        long startedAt = System.nanoTime();
        Cluster cluster;
        try {
            cluster = Cluster.start(options, step -> out.println("  " + step));
        } catch (IllegalStateException | java.io.UncheckedIOException e) {
            System.err.println("backbone cluster: " + e.getMessage());
            return 1;
        }
        var stopped = new CountDownLatch(1);
        var done = new CountDownLatch(1);
        var stopping = new java.util.concurrent.atomic.AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!stopping.compareAndSet(false, true)) {
                return;
            }
            out.println("Stopping the cluster");
            cluster.close();
            out.println("Stopped cleanly");
            stopped.countDown();
            try {
                done.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "backbone-cluster-shutdown"));
        out.printf("Backbone cluster is up (started in %.1f s). %s%n", (System.nanoTime() - startedAt) / 1e9,
                durationSeconds > 0 ? "It stops after " + durationSeconds + " s; press Ctrl-C to stop it earlier."
                        : "Press Ctrl-C to stop every service.");
        out.printf("  %-20s %8s  %-28s %s%n", "service", "pid", "ports", "log");
        for (ServiceProcess service : cluster.services()) {
            String ports = service.ports().entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                    .collect(Collectors.joining(", "));
            out.printf("  %-20s %8d  %-28s %s%n", service.name(), service.pid(), ports, service.logFile());
        }
        out.println("  front door         " + cluster.frontDoorUri());
        out.println("  routing APIs       " + cluster.routingApiUris());
        out.println("  Kafka bootstrap    " + cluster.bootstrapServers());
        out.println("  psql               psql " + cluster.psqlUri());
        out.println("  admin token        " + options.adminToken() + " (random)");
        out.println("  token (user demo)  " + cluster.mintToken("demo", Duration.ofHours(24)) + " (valid 24 h)");
        out.println("Try:");
        out.println("  curl -H 'Host: " + LocalStack.SITE + "' " + cluster.frontDoorUri().resolve("/products/42"));
        out.println("  kill -9 " + cluster.service("app-1").pid() + "   # an app server crashes; its partitions move to the others");
        out.flush();
        if (durationSeconds > 0) {
            if (!stopped.await(durationSeconds, TimeUnit.SECONDS) && stopping.compareAndSet(false, true)) {
                out.println("Stopping the cluster after " + durationSeconds + " s");
                cluster.close();
                out.println("Stopped cleanly");
            }
        } else {
            stopped.await();
        }
        done.countDown();
        return 0;
    }

    /**
     * Returns the edge regions of {@code --edges}: none for {@code none} alone, else the values as given.
     *
     * @throws IllegalArgumentException when {@code none} is named more than once or comes with other values
     */
    static List<String> edgeRegions(List<String> edges) {
        if (edges.size() == 1 && edges.get(0).equals("none")) {
            return List.of();
        }
        if (edges.stream().allMatch("none"::equals)) {
            throw new IllegalArgumentException("--edges " + String.join(",", edges) + " names \"none\" " + edges.size()
                    + " times; " + EDGES_RULE);
        }
        if (edges.contains("none")) {
            throw new IllegalArgumentException("--edges " + String.join(",", edges) + " has \"none\" among other values; "
                    + EDGES_RULE);
        }
        return edges;
    }

    /**
     * Returns a warning for each edge region after the first that no client of the demo or of the default load comes
     * from. The first edge is also the default edge of every region without one, so it always serves clients.
     */
    static List<String> edgeWarnings(List<String> regions) {
        return regions.stream().skip(1).filter(region -> !Workload.REGIONS.contains(region))
                .map(region -> "no client of the demo or of the default load comes from region '" + region
                        + "', so its edge serves only requests with X-Client-Region: " + region + " (default client regions: "
                        + String.join(", ", Workload.REGIONS) + "; the first edge, " + regions.get(0)
                        + ", serves the regions without an edge)")
                .toList();
    }
}
