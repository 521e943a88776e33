package dev.backbone.launcher;

import com.zaxxer.hikari.HikariDataSource;
import dev.backbone.appserver.AppServer;
import dev.backbone.appserver.AppServerConfig;
import dev.backbone.appserver.TokenSigner;
import dev.backbone.cdn.CdnEdge;
import dev.backbone.cdn.EdgeConfig;
import dev.backbone.embedded.FreePorts;
import dev.backbone.embedded.EmbeddedStack;
import dev.backbone.embedded.SelfSignedCertificate;
import dev.backbone.events.DnsRecord;
import dev.backbone.events.Settings;
import dev.backbone.events.TlsStore;
import dev.backbone.events.TopicAdmin;
import dev.backbone.events.Topics;
import dev.backbone.ingest.FrontDoor;
import dev.backbone.ingest.IngestConfig;
import dev.backbone.invalidator.CacheInvalidator;
import dev.backbone.invalidator.CacheInvalidatorConfig;
import dev.backbone.routing.RoutingConfig;
import dev.backbone.routing.RoutingService;
import dev.backbone.storage.CatalogueSeeder;
import dev.backbone.storage.Database;
import dev.backbone.storage.SeedResult;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole Backbone stack in one JVM on the embedded default: Kafka and PostgreSQL in-process, the catalogue seeded,
 * DNS records for {@value #SITE} published, then the cache invalidator, the routing layer, the app servers, the
 * front door and the CDN edges. {@link #startOn} runs the same services against a Kafka cluster and PostgreSQL
 * outside this JVM instead. With {@link StackOptions#tlsEnabled()} the front door and the edges serve HTTPS with a
 * new self-signed certificate. {@link #close()} stops everything in reverse order.
 */
public final class LocalStack implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LocalStack.class);

    /** The demo site; its global DNS record lists the two global load balancers. */
    public static final String SITE = "shop.example.com";
    public static final List<String> LOAD_BALANCERS = List.of("lb-1", "lb-2");
    /** Regions that get a CDN edge of their own; clients of other regions are sent to the first one. */
    public static final List<String> EDGE_REGIONS = List.of("us-east", "eu-west");
    /** Regional load balancers the routing layer also runs, for regional DNS records that users add. */
    public static final List<String> REGIONAL_LOAD_BALANCERS = List.of("lb-us-east", "lb-us-west", "lb-eu-west", "lb-ap-south");
    public static final String POOL = "shop";
    /** Validity of the self-signed certificate of a stack that serves HTTPS; a new one is made at every start. */
    public static final Duration CERTIFICATE_VALIDITY = Duration.ofDays(30);

    static {
        // The readiness probe sends the Host header that names the site, which java.net.http restricts unless this
        // property is set before its first use in the JVM.
        if (System.getProperty("jdk.httpclient.allowRestrictedHeaders") == null) {
            System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
        }
    }

    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final Map<String, PrometheusMeterRegistry> registries = new LinkedHashMap<>();
    private final List<AppServer> appServers = new ArrayList<>();
    private ExternalServices services;
    private HikariDataSource dataSource;
    private FrontDoor frontDoor;
    private RoutingService routing;
    private final Map<String, CdnEdge> edges = new LinkedHashMap<>();
    private final String edgeToken = StackOptions.randomToken();
    /** {@code null} when the stack serves plain HTTP. */
    private SelfSignedCertificate certificate;
    private StackOptions options;
    private SeedResult seed;
    private long readyAtNanos;

    private LocalStack() {
    }

    /**
     * Starts every component and waits until a request through the front door gets a 200 response.
     *
     * @param progress receives one line per start-up step
     * @throws IllegalStateException when a component cannot start; everything started so far is stopped first
     */
    public static LocalStack start(StackOptions options, java.util.function.Consumer<String> progress) {
        return startOn(null, options, progress);
    }

    /**
     * Starts every service against {@code services}, or against an in-process Kafka broker and PostgreSQL when it is
     * null, and waits until a request through the front door gets a 200 response. On external services it first
     * creates the missing topics with their replication factor, and migrates and seeds the database, which is safe to
     * repeat.
     *
     * @param progress receives one line per start-up step
     * @throws IllegalStateException when a component cannot start; everything started so far is stopped first
     */
    public static LocalStack startOn(ExternalServices services, StackOptions options,
                                     java.util.function.Consumer<String> progress) {
        var stack = new LocalStack();
        long startedAt = System.nanoTime();
        try {
            stack.startAll(services, options, progress);
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
        stack.readyAtNanos = System.nanoTime() - startedAt;
        return stack;
    }

    private void startAll(ExternalServices external, StackOptions options, java.util.function.Consumer<String> progress) {
        this.options = options;
        if (external == null) {
            progress.accept("starting PostgreSQL and Kafka (in-process)");
            EmbeddedStack embedded = EmbeddedStack.start();
            started.push(embedded);
            services = ExternalServices.of(embedded);
        } else {
            progress.accept("creating the topics on " + external.bootstrapServers());
            services = external;
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, external.bootstrapServers()))) {
                TopicAdmin.ensureTopics(admin, Topics.all(), external.topicReplicationFactor());
            }
        }
        String bootstrap = services.bootstrapServers();
        String replicationFactor = String.valueOf(services.topicReplicationFactor());

        progress.accept("migrating the schema and seeding " + options.products() + " products in " + options.categories() + " categories");
        dataSource = Database.pool(services.jdbcUrl(), 8);
        started.push(dataSource);
        Database.migrate(dataSource);
        seed = CatalogueSeeder.seed(dataSource, options.categories(), options.products(), 42L);
        publishSiteRecord(bootstrap);

        progress.accept("starting change data capture (Debezium, pgoutput)");
        Path offsets = tempDir("backbone-offsets-").resolve("offsets.dat");
        var invalidatorSettings = withRedis(Map.of(
                "bootstrap.servers", bootstrap,
                "topics.replication.factor", replicationFactor,
                "database.hostname", services.databaseHost(),
                "database.port", String.valueOf(services.databasePort()),
                "database.dbname", services.databaseName(),
                "database.user", services.databaseUser(),
                "database.password", services.databasePassword(),
                "offset.storage.file", offsets.toString()), options);
        var invalidator = CacheInvalidator.start(CacheInvalidatorConfig.from(Settings.of(invalidatorSettings)), registry("cache-invalidator"));
        started.push(invalidator);
        awaitOrFail(() -> invalidator.awaitCapturing(Duration.ofSeconds(60)), "change data capture did not start within 60 s");

        progress.accept("starting the routing layer (Kafka Streams: DNS and load balancer)");
        Path stateDir = tempDir("backbone-streams-");
        var routing = RoutingService.start(RoutingConfig.from(Settings.of(Map.of(
                "bootstrap.servers", bootstrap,
                "topics.replication.factor", replicationFactor,
                "state.dir", stateDir.toString(),
                "lb.addresses", String.join(",", LOAD_BALANCERS) + "," + String.join(",", REGIONAL_LOAD_BALANCERS),
                "lb.pool", POOL,
                "rest.port", String.valueOf(options.routingApiPort()),
                "admin.token", options.adminToken()))), registry("routing-streams"));
        started.push(routing);
        this.routing = routing;
        if (!routing.awaitRunning(Duration.ofSeconds(60))) {
            throw new IllegalStateException("the routing layer did not reach RUNNING within 60 s");
        }

        if (options.tlsEnabled()) {
            progress.accept("writing a self-signed certificate for localhost and 127.0.0.1 to " + options.tlsDirectory());
            certificate = SelfSignedCertificate.forLocalhost(options.tlsDirectory(), CERTIFICATE_VALIDITY);
        }

        progress.accept("starting " + options.appServers() + " app servers" + (options.redisUri().isEmpty() ? ""
                : " with the Redis L2 cache at " + options.redisUri()));
        Map<String, Integer> edgePorts = new LinkedHashMap<>();
        EDGE_REGIONS.forEach(region -> edgePorts.put(region, FreePorts.next()));
        // The app servers redirect static content to these URLs, so they carry the scheme the edges serve.
        String edgeScheme = options.tlsEnabled() ? "https" : "http";
        String cdnEdges = edgePorts.entrySet().stream()
                .map(edge -> edge.getKey() + "=" + edgeScheme + "://127.0.0.1:" + edge.getValue() + "/")
                .collect(java.util.stream.Collectors.joining(","));
        for (int i = 1; i <= options.appServers(); i++) {
            String id = "app-" + i;
            var appServerSettings = withRedis(Map.of(
                    "server.id", id,
                    "pool", POOL,
                    "bootstrap.servers", bootstrap,
                    "jdbc.url", services.jdbcUrl(),
                    "auth.secret", options.authSecret(),
                    "edge.token", edgeToken,
                    "cdn.edges", cdnEdges,
                    "cdn.default.edge", edgeScheme + "://127.0.0.1:" + edgePorts.get(EDGE_REGIONS.get(0)) + "/"), options);
            var appServer = AppServer.start(AppServerConfig.from(Settings.of(appServerSettings)), registry(id));
            started.push(appServer);
            appServers.add(appServer);
        }

        awaitAppServersAssigned();

        progress.accept("starting the front door");
        var frontDoorSettings = new LinkedHashMap<>(Map.of(
                "bootstrap.servers", bootstrap,
                "http.port", String.valueOf(options.httpPort())));
        if (options.rateLimitPerSecond() > 0) {
            frontDoorSettings.put("rate.limit.per.second", String.valueOf(options.rateLimitPerSecond()));
            if (options.rateLimitBurst() > 0) {
                frontDoorSettings.put("rate.limit.burst", String.valueOf(options.rateLimitBurst()));
            }
        }
        frontDoorSettings.putAll(keyStoreSettings());
        frontDoor = FrontDoor.start(IngestConfig.from(Settings.of(frontDoorSettings)), registry("request-ingest"));
        started.push(frontDoor);

        progress.accept("starting CDN edges for " + String.join(", ", EDGE_REGIONS));
        for (String region : EDGE_REGIONS) {
            var edgeSettings = new LinkedHashMap<>(Map.of(
                    "region", region,
                    "http.port", String.valueOf(edgePorts.get(region)),
                    "origin.url", frontDoor.uri().toString(),
                    "edge.token", edgeToken,
                    "admin.token", options.adminToken(),
                    "bootstrap.servers", bootstrap,
                    "topics.replication.factor", replicationFactor));
            edgeSettings.putAll(keyStoreSettings());
            if (certificate != null) {
                edgeSettings.put(EdgeConfig.ORIGIN_TRUST_STORE_PREFIX + ".path", certificate.certificatePem().toString());
            }
            CdnEdge edge = CdnEdge.start(EdgeConfig.of(edgeSettings), registry("cdn-edge-" + region));
            started.push(edge);
            edges.put(region, edge);
        }
        for (CdnEdge edge : edges.values()) {
            awaitOrFail(() -> edge.awaitPurgeSubscription(Duration.ofSeconds(30)), "the CDN edge " + edge.uri() + " did not subscribe to purges");
        }
        awaitFirstAnswer(frontDoor.uri(), Duration.ofSeconds(60), httpClient(Duration.ofSeconds(2)));
    }

    /**
     * Waits until every app server is ready and the partitions of {@code backbone.routed-requests} are split among all
     * of them, so that the first requests do not wait for a partition handover between servers.
     */
    private void awaitAppServersAssigned() {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            int assigned = 0;
            boolean everyServerHasPartitions = true;
            for (AppServer server : appServers) {
                int count = server.stats().assignedPartitions().size();
                assigned += count;
                everyServerHasPartitions &= server.ready() && count > 0;
            }
            if (everyServerHasPartitions && assigned == Topics.ROUTED_REQUESTS.partitions()) {
                return;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
        }
        throw new IllegalStateException("the app servers did not split the partitions of " + Topics.ROUTED_REQUESTS.name()
                + " among themselves within 60 s");
    }

    /** Returns the {@code tls.keystore.*} settings of the self-signed certificate, or none for plain HTTP. */
    private Map<String, String> keyStoreSettings() {
        if (certificate == null) {
            return Map.of();
        }
        return Map.of(
                TlsStore.KEY_STORE_PREFIX + ".path", certificate.keyStore().toString(),
                TlsStore.KEY_STORE_PREFIX + ".password", certificate.keyStorePassword(),
                TlsStore.KEY_STORE_PREFIX + ".type", TlsStore.PKCS12);
    }

    /** Returns the settings plus {@code redis.uri} when the stack uses Redis; without the key a service has no L2 tier. */
    private static Map<String, String> withRedis(Map<String, String> settings, StackOptions options) {
        var all = new LinkedHashMap<>(settings);
        if (!options.redisUri().isEmpty()) {
            all.put("redis.uri", options.redisUri());
        }
        return all;
    }

    /** A wait that returns false on timeout. */
    private interface Wait {
        boolean await() throws InterruptedException;
    }

    private static void awaitOrFail(Wait wait, String failure) {
        try {
            if (!wait.await()) {
                throw new IllegalStateException(failure);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + failure, e);
        }
    }

    /** Publishes the global DNS record of {@value #SITE}, which lists {@link #LOAD_BALANCERS}. */
    public static void publishSiteRecord(String bootstrap) {
        var record = new DnsRecord(DnsRecord.SCHEMA_VERSION, SITE, DnsRecord.GLOBAL, DnsRecord.Type.A, LOAD_BALANCERS, null, 60, 1);
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), Topics.DNS_RECORDS.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(Topics.DNS_RECORDS.name(), record.key(), record)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing DNS records", e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot publish the DNS record of " + SITE + ": " + e.getMessage(), e);
        }
    }

    /**
     * Polls the front door over plain HTTP until a product read returns 200, which proves every stage of the path is up.
     *
     * @throws IllegalStateException naming the last response when none is 200 within {@code timeout}
     */
    public static void awaitFirstAnswer(URI frontDoorUri, Duration timeout) {
        awaitFirstAnswer(frontDoorUri, timeout, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build());
    }

    /**
     * Polls the front door with {@code client} until a product read returns 200.
     *
     * @throws IllegalStateException naming the last response when none is 200 within {@code timeout}
     */
    public static void awaitFirstAnswer(URI frontDoorUri, Duration timeout, HttpClient client) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        for (int attempt = 1; System.nanoTime() < deadline; attempt++) {
            // A client id per attempt, so that a low rate limit of the front door cannot hold the probe back.
            HttpRequest probe = HttpRequest.newBuilder(frontDoorUri.resolve("/products/1"))
                    .header("Host", SITE).header("X-Client-Id", "readiness-probe-" + attempt)
                    .timeout(Duration.ofSeconds(5)).GET().build();
            try {
                HttpResponse<String> response = client.send(probe, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                last = response.statusCode() + " " + response.body();
            } catch (java.io.IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the stack", e);
            }
            // Heartbeats arrive every second; a short pause between probes keeps the log quiet.
            java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
        }
        throw new IllegalStateException("GET /products/1 through the front door did not return 200 within "
                + timeout.toSeconds() + " s; last response: " + last);
    }

    /**
     * Returns an HTTP client for the front door and the edges: with TLS it trusts only the stack's certificate, and it
     * verifies the host name as every {@code java.net.http} client does.
     */
    public HttpClient httpClient(Duration connectTimeout) {
        var builder = HttpClient.newBuilder().connectTimeout(connectTimeout);
        if (certificate != null) {
            builder.sslContext(TlsStore.trustingContext(certificate.trustStore()));
        }
        return builder.build();
    }

    /** Returns the self-signed certificate the front door and the edges serve, or empty for plain HTTP. */
    public java.util.Optional<SelfSignedCertificate> certificate() {
        return java.util.Optional.ofNullable(certificate);
    }

    private PrometheusMeterRegistry registry(String component) {
        var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("component", component);
        registries.put(component, registry);
        return registry;
    }

    /** Creates a temporary directory that {@link #close()} deletes after every component has stopped. */
    private Path tempDir(String prefix) {
        try {
            Path dir = Files.createTempDirectory(prefix);
            started.addLast(() -> deleteRecursively(dir));
            return dir;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot create a temporary directory: " + e.getMessage(), e);
        }
    }

    private static void deleteRecursively(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    /** Returns the routing layer's REST API, such as {@code http://127.0.0.1:8081/}. */
    public URI routingApiUri() {
        return routing.restUri();
    }

    /** Returns the CDN edges by region, in start order. */
    public Map<String, CdnEdge> edges() {
        return Collections.unmodifiableMap(edges);
    }

    /** Returns the CDN edges by region, such as {@code eu-west → http://127.0.0.1:41234/}. */
    public Map<String, URI> edgeUris() {
        var uris = new LinkedHashMap<String, URI>();
        edges.forEach((region, edge) -> uris.put(region, edge.uri()));
        return uris;
    }

    /** Returns a bearer token for {@code subject}, signed with the app servers' secret and valid for {@code ttl}. */
    public String mintToken(String subject, Duration ttl) {
        return new TokenSigner(options.authSecret().getBytes(java.nio.charset.StandardCharsets.UTF_8)).mint(subject, ttl);
    }

    public StackOptions options() {
        return options;
    }

    public URI frontDoorUri() {
        return frontDoor.uri();
    }

    public String jdbcUrl() {
        return services.jdbcUrl();
    }

    public String psqlUri() {
        return services.psqlUri();
    }

    public String bootstrapServers() {
        return services.bootstrapServers();
    }

    public List<AppServer> appServers() {
        return Collections.unmodifiableList(appServers);
    }

    public SeedResult seed() {
        return seed;
    }

    /** Returns how long {@link #start} took until the first request returned 200. */
    public Duration startUpTime() {
        return Duration.ofNanos(readyAtNanos);
    }

    public Map<String, PrometheusMeterRegistry> registries() {
        return Collections.unmodifiableMap(registries);
    }

    /** Stops every started component in reverse order, logging and continuing past failures. Idempotent. */
    @Override
    public void close() {
        while (!started.isEmpty()) {
            AutoCloseable component = started.pop();
            try {
                component.close();
            } catch (Exception e) {
                log.warn("Cannot stop {} cleanly: {}", component.getClass().getSimpleName(), e.toString());
            }
        }
    }
}
