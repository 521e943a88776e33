package dev.backbone.launcher.cluster;

import dev.backbone.embedded.EmbeddedStack;
import dev.backbone.embedded.FreePorts;
import dev.backbone.events.Topics;
import dev.backbone.launcher.ClusterSetup;
import dev.backbone.launcher.ClusterSetupConfig;
import dev.backbone.launcher.ExternalServices;
import dev.backbone.launcher.LocalStack;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;

/**
 * Backbone as a multi-process cluster on this machine. Kafka and PostgreSQL run in this JVM ({@link #start}) or outside
 * it ({@link #startOn}), and every service runs as a JVM of its own on 127.0.0.1 with its own ports: the cache
 * invalidator, the routing-streams instances (the first is the active load balancer, the others standbys), the app
 * servers, the front door and one CDN edge per region. Services can be killed, stopped, paused and started again, and
 * the broker taken away and brought back, which is what the fault tests do. {@link #close()} stops everything this
 * class started.
 */
public final class Cluster implements AutoCloseable {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);

    private final ClusterOptions options;
    private final Path workDir;
    private final boolean temporaryWorkDir;
    private boolean keepWorkDir;
    private final Map<String, ServiceProcess> services = new LinkedHashMap<>();
    /** {@code null} when the cluster runs on external services. */
    private EmbeddedStack embedded;
    /** The Kafka and PostgreSQL addresses the services use: the in-process ones or those given to {@link #startOn}. */
    private ExternalServices backing;
    /** {@code null} when the cluster runs on an external broker and {@link #startOn} got no outage. */
    private BrokerOutage brokerOutage;
    private URI frontDoorUri;
    private final List<URI> routingApiUris = new ArrayList<>();
    private final Map<String, URI> edgeUris = new LinkedHashMap<>();
    private boolean closed;

    private Cluster(ClusterOptions options, Path workDir, boolean temporaryWorkDir) {
        this.options = options;
        this.workDir = workDir;
        this.temporaryWorkDir = temporaryWorkDir;
    }

    /**
     * Starts the broker and PostgreSQL in this JVM, seeds the catalogue, starts every service and waits until a request
     * through the front door gets a 200 response.
     *
     * @param progress receives one line per start-up step
     * @throws IllegalStateException when a service does not start, with the end of its log; everything is stopped first
     */
    public static Cluster start(ClusterOptions options, Consumer<String> progress) {
        return launch(null, null, options, progress);
    }

    /**
     * Starts every service against Kafka and PostgreSQL outside this JVM and waits until a request through the front
     * door gets a 200 response. Like {@link ClusterSetup} for a deployment, it first creates the missing topics with
     * the replication factor of {@code services}, migrates the schema, seeds the catalogue and writes the DNS record of
     * the site, which is safe to repeat. The service JVMs connect to the addresses in {@code services}, so these must
     * be reachable from this machine. {@link #close()} leaves Kafka and PostgreSQL running.
     *
     * @param outage   how {@link #stopBroker()} and {@link #restartBroker()} take the broker away and back, or
     *                 {@code null} when they cannot
     * @param progress receives one line per start-up step
     * @throws IllegalStateException when a service does not start, with the end of its log; every service is stopped
     *                               first
     */
    public static Cluster startOn(ExternalServices services, BrokerOutage outage, ClusterOptions options,
                                  Consumer<String> progress) {
        Objects.requireNonNull(services, "services");
        return launch(services, outage, options, progress);
    }

    private static Cluster launch(ExternalServices services, BrokerOutage outage, ClusterOptions options,
                                  Consumer<String> progress) {
        Path dir;
        boolean temporary = options.workDir() == null;
        try {
            dir = temporary ? Files.createTempDirectory("backbone-cluster-") : Files.createDirectories(options.workDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the cluster directory: " + e.getMessage(), e);
        }
        var cluster = new Cluster(options, dir, temporary);
        try {
            cluster.startAll(services, outage, progress);
        } catch (RuntimeException e) {
            // The logs explain the failure, so a temporary directory is kept for the user to read them.
            cluster.keepWorkDir = true;
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private void startAll(ExternalServices external, BrokerOutage externalOutage, Consumer<String> progress) {
        if (external == null) {
            progress.accept("starting PostgreSQL and Kafka (in this process); service logs go to " + workDir);
            embedded = EmbeddedStack.start();
            backing = ExternalServices.of(embedded);
            brokerOutage = BrokerOutage.of(embedded.kafka()::stop, embedded.kafka()::restart);
        } else {
            progress.accept("using Kafka at " + external.bootstrapServers() + " and PostgreSQL at " + external.psqlUri()
                    + "; service logs go to " + workDir);
            backing = external;
            brokerOutage = externalOutage;
        }
        String bootstrap = backing.bootstrapServers();

        progress.accept("creating the topics, migrating the schema and seeding " + options.products() + " products in "
                + options.categories() + " categories");
        ClusterSetup.run(new ClusterSetupConfig(bootstrap, backing.topicReplicationFactor(), backing.jdbcUrl(),
                options.categories(), options.products(), LocalStack.SITE, LocalStack.LOAD_BALANCERS,
                ClusterSetupConfig.DEFAULT_TTL_SECONDS));

        List<String> lbAddresses = new ArrayList<>(LocalStack.LOAD_BALANCERS);
        lbAddresses.addAll(LocalStack.REGIONAL_LOAD_BALANCERS);
        int httpPort = options.httpPort() == 0 ? FreePorts.next() : options.httpPort();
        frontDoorUri = URI.create("http://127.0.0.1:" + httpPort + "/");
        Map<String, Integer> edgePorts = new LinkedHashMap<>();
        options.edgeRegions().forEach(region -> edgePorts.put(region, FreePorts.next()));
        String edgeToken = dev.backbone.launcher.StackOptions.randomToken();

        int invalidatorMetrics = FreePorts.next();
        add(ServiceProcess.Kind.CACHE_INVALIDATOR, "cache-invalidator", withRedis(Map.of(
                "bootstrap.servers", bootstrap,
                "database.hostname", backing.databaseHost(),
                "database.port", String.valueOf(backing.databasePort()),
                "database.dbname", backing.databaseName(),
                "database.user", backing.databaseUser(),
                "database.password", backing.databasePassword(),
                "offset.storage.file", workDir.resolve("cache-invalidator.offsets").toString(),
                "topics.create", "false",
                "metrics.port", String.valueOf(invalidatorMetrics))), Map.of("metrics", invalidatorMetrics));

        for (int i = 1; i <= options.routingInstances(); i++) {
            int restPort = FreePorts.next();
            routingApiUris.add(URI.create("http://127.0.0.1:" + restPort + "/"));
            var settings = new LinkedHashMap<String, String>();
            settings.put("bootstrap.servers", bootstrap);
            settings.put("state.dir", workDir.resolve("routing-" + i + "-state").toString());
            settings.put("lb.addresses", String.join(",", lbAddresses));
            settings.put("lb.pool", LocalStack.POOL);
            settings.put("lb.role", i == 1 ? "active" : "standby");
            settings.put("rest.port", String.valueOf(restPort));
            settings.put("application.server", "127.0.0.1:" + restPort);
            settings.put("admin.token", options.adminToken());
            settings.put("session.timeout.ms", "6000");
            settings.put("topics.create", "false");
            add(ServiceProcess.Kind.ROUTING, "routing-" + i, settings, Map.of("rest", restPort));
        }

        String cdnEdges = edgePorts.entrySet().stream()
                .map(edge -> edge.getKey() + "=http://127.0.0.1:" + edge.getValue() + "/")
                .collect(Collectors.joining(","));
        for (int i = 1; i <= options.appServers(); i++) {
            int metricsPort = FreePorts.next();
            var settings = new LinkedHashMap<String, String>();
            settings.put("server.id", "app-" + i);
            settings.put("pool", LocalStack.POOL);
            settings.put("bootstrap.servers", bootstrap);
            settings.put("jdbc.url", backing.jdbcUrl());
            settings.put("auth.secret", options.authSecret());
            settings.put("edge.token", edgeToken);
            settings.put("metrics.port", String.valueOf(metricsPort));
            if (!edgePorts.isEmpty()) {
                settings.put("cdn.edges", cdnEdges);
                settings.put("cdn.default.edge", "http://127.0.0.1:" + edgePorts.values().iterator().next() + "/");
            }
            add(ServiceProcess.Kind.APP_SERVER, "app-" + i, withRedis(settings), Map.of("metrics", metricsPort));
        }

        int frontDoorMetrics = FreePorts.next();
        add(ServiceProcess.Kind.FRONT_DOOR, "front-door", Map.of(
                "bootstrap.servers", bootstrap,
                "http.port", String.valueOf(httpPort),
                "metrics.port", String.valueOf(frontDoorMetrics),
                "kafka.timeout.ms", "2000"), Map.of("http", httpPort, "metrics", frontDoorMetrics));

        edgePorts.forEach((region, port) -> {
            edgeUris.put(region, URI.create("http://127.0.0.1:" + port + "/"));
            add(ServiceProcess.Kind.CDN_EDGE, "cdn-edge-" + region, Map.of(
                    "region", region,
                    "http.port", String.valueOf(port),
                    "origin.url", frontDoorUri.toString(),
                    "edge.token", edgeToken,
                    "admin.token", options.adminToken(),
                    "bootstrap.servers", bootstrap,
                    "topics.replication.factor", String.valueOf(backing.topicReplicationFactor())),
                    Map.of("http", port));
        });

        progress.accept("starting the cache invalidator");
        startAndAwait(byKind(ServiceProcess.Kind.CACHE_INVALIDATOR));
        progress.accept("starting " + options.routingInstances() + " routing-streams instance(s)");
        startAndAwait(byKind(ServiceProcess.Kind.ROUTING));
        progress.accept("starting " + options.appServers() + " app server(s)");
        startAndAwait(byKind(ServiceProcess.Kind.APP_SERVER));
        awaitAppServersAssigned(options.appServers(), READY_TIMEOUT);
        progress.accept("starting the front door and " + edgePorts.size() + " CDN edge(s)");
        List<ServiceProcess> edgeAndDoor = new ArrayList<>(byKind(ServiceProcess.Kind.FRONT_DOOR));
        edgeAndDoor.addAll(byKind(ServiceProcess.Kind.CDN_EDGE));
        startAndAwait(edgeAndDoor);
        LocalStack.awaitFirstAnswer(frontDoorUri, Duration.ofSeconds(60));
    }

    private Map<String, String> withRedis(Map<String, String> settings) {
        var all = new LinkedHashMap<>(settings);
        if (!options.redisUri().isEmpty()) {
            all.put("redis.uri", options.redisUri());
        }
        return all;
    }

    private void add(ServiceProcess.Kind kind, String name, Map<String, String> settings, Map<String, Integer> ports) {
        services.put(name, new ServiceProcess(name, kind, settings, ports, workDir, options.jvmOptions()));
    }

    private List<ServiceProcess> byKind(ServiceProcess.Kind kind) {
        return services.values().stream().filter(service -> service.kind() == kind).toList();
    }

    /** Starts the services at once and waits until each is ready. */
    private static void startAndAwait(Collection<ServiceProcess> processes) {
        processes.forEach(ServiceProcess::start);
        List<CompletableFuture<Void>> ready = processes.stream()
                .map(service -> CompletableFuture.runAsync(() -> service.awaitReady(READY_TIMEOUT)))
                .toList();
        try {
            CompletableFuture.allOf(ready.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }

    /**
     * Waits until the consumer group of {@code backbone.routed-requests} has {@code count} members that together own
     * every partition, each owning at least one.
     */
    public void awaitAppServersAssigned(int count, Duration timeout) {
        String group = "backbone-app-servers-" + LocalStack.POOL;
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no description";
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            while (System.nanoTime() < deadline) {
                try {
                    ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group))
                            .describedGroups().get(group).get(10, TimeUnit.SECONDS);
                    Collection<MemberDescription> members = description.members();
                    int partitions = members.stream().mapToInt(member -> member.assignment().topicPartitions().size()).sum();
                    boolean everyMemberHasPartitions = members.stream()
                            .allMatch(member -> !member.assignment().topicPartitions().isEmpty());
                    if (members.size() == count && everyMemberHasPartitions && partitions == Topics.ROUTED_REQUESTS.partitions()) {
                        return;
                    }
                    last = members.size() + " members owning " + partitions + " partitions";
                } catch (Exception e) {
                    last = e.toString();
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
            }
        }
        throw new IllegalStateException("the app servers did not split " + Topics.ROUTED_REQUESTS.name() + " among "
                + count + " members within " + timeout.toSeconds() + " s; last seen: " + last);
    }

    /** Returns the service called {@code name}, such as {@code app-2}, {@code routing-1} or {@code cache-invalidator}. */
    public ServiceProcess service(String name) {
        ServiceProcess service = services.get(name);
        if (service == null) {
            throw new IllegalArgumentException("no service " + name + " in this cluster; services: " + services.keySet());
        }
        return service;
    }

    public Collection<ServiceProcess> services() {
        return List.copyOf(services.values());
    }

    /** Starts a stopped or killed service again, with the same configuration and ports, and waits until it is ready. */
    public void restart(String name) {
        ServiceProcess service = service(name);
        service.start();
        service.awaitReady(READY_TIMEOUT);
    }

    /**
     * Takes the broker away from the services. The in-process broker stops, and an external one goes away through the
     * {@link BrokerOutage} given to {@link #startOn}. The broker keeps its data and address for {@link #restartBroker()}.
     *
     * @throws IllegalStateException when the cluster runs on an external broker without a {@link BrokerOutage}
     */
    public void stopBroker() {
        outage().stop();
    }

    /**
     * Brings back the broker taken away by {@link #stopBroker()} and waits until it accepts requests.
     *
     * @throws IllegalStateException when the cluster runs on an external broker without a {@link BrokerOutage}
     */
    public void restartBroker() {
        outage().restart();
    }

    private BrokerOutage outage() {
        if (brokerOutage == null) {
            throw new IllegalStateException("this cluster runs on the broker at " + backing.bootstrapServers()
                    + " and has no way to stop it; pass a BrokerOutage to Cluster.startOn");
        }
        return brokerOutage;
    }

    public URI frontDoorUri() {
        return frontDoorUri;
    }

    /** Returns the REST API of every routing-streams instance, in order: routing-1 first. */
    public List<URI> routingApiUris() {
        return List.copyOf(routingApiUris);
    }

    public Map<String, URI> edgeUris() {
        return Map.copyOf(edgeUris);
    }

    public String bootstrapServers() {
        return backing.bootstrapServers();
    }

    /** Returns the JDBC URL of the database, with the user, and the password when there is one. */
    public String jdbcUrl() {
        return backing.jdbcUrl();
    }

    public String psqlUri() {
        return backing.psqlUri();
    }

    public ClusterOptions options() {
        return options;
    }

    public Path workDir() {
        return workDir;
    }

    /** Returns a bearer token for {@code subject}, signed with the app servers' secret. */
    public String mintToken(String subject, Duration ttl) {
        return new dev.backbone.appserver.TokenSigner(options.authSecret().getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .mint(subject, ttl);
    }

    /**
     * Stops every service with SIGTERM in the reverse order of their start, all at once, then the in-process broker
     * and PostgreSQL, then deletes a temporary directory. External Kafka and PostgreSQL keep running. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<ServiceProcess> reverse = new ArrayList<>(services.values());
        java.util.Collections.reverse(reverse);
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        for (ServiceProcess service : reverse) {
            stops.add(CompletableFuture.runAsync(() -> service.stop(STOP_GRACE)));
        }
        CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).join();
        if (embedded != null) {
            embedded.close();
        }
        if (temporaryWorkDir && !keepWorkDir) {
            deleteRecursively(workDir);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (var paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            // A leftover temporary directory is harmless.
        }
    }
}
