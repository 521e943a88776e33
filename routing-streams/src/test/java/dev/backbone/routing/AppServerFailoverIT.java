package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariDataSource;
import dev.backbone.appserver.AppServer;
import dev.backbone.appserver.AppServerConfig;
import dev.backbone.embedded.EmbeddedStack;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.DnsRecord;
import dev.backbone.events.Json;
import dev.backbone.events.Settings;
import dev.backbone.events.Topics;
import dev.backbone.ingest.FrontDoor;
import dev.backbone.ingest.IngestConfig;
import dev.backbone.storage.CatalogueSeeder;
import dev.backbone.storage.Database;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The whole request path with three app servers behind one load balancer: one app server stops in the middle of a
 * steady stream of HTTP requests. The servers that take over its partitions handle the requests already routed to
 * it, and later requests go only to the two left. Every request gets exactly one 200 response.
 */
@ExtendWith(EmbeddedStackExtension.class)
class AppServerFailoverIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String SITE = "shop.failover-it.example";
    private static final String POOL = "shop";
    /** 40 requests per second for 15 s. */
    private static final int REQUESTS = 600;
    private static final long REQUEST_INTERVAL_MS = 25;
    private static final int STOP_SERVER_AFTER = REQUESTS / 2;
    private static final int PRODUCTS = 40;
    private static final int CLIENTS = 60;

    private final List<AutoCloseable> started = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stopAll() throws Exception {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).close();
        }
    }

    private static void publishDnsRecord(String bootstrap) throws Exception {
        var record = new DnsRecord(DnsRecord.SCHEMA_VERSION, SITE, DnsRecord.GLOBAL, DnsRecord.Type.A, List.of("lb-1"),
                null, 60, 1);
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), Topics.DNS_RECORDS.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(Topics.DNS_RECORDS.name(), record.key(), record)).get();
        }
    }

    private AppServer startAppServer(EmbeddedStack stack, String serverId) {
        var appServer = AppServer.start(AppServerConfig.from(Settings.of(Map.of(
                "server.id", serverId,
                "pool", POOL,
                "bootstrap.servers", stack.bootstrapServers(),
                "jdbc.url", stack.postgres().jdbcUrl(),
                "db.pool.size", "2",
                "worker.threads", "2",
                // Signs bearer tokens of protected endpoints; the product reads of this test need none.
                "auth.secret", "failover-it-secret-0123456789abcdef0123456789"))), new SimpleMeterRegistry());
        started.add(appServer);
        return appServer;
    }

    private HttpRequest productRequest(URI frontDoor, int index) {
        return HttpRequest.newBuilder(frontDoor.resolve("/products/" + (1 + index % PRODUCTS)))
                .header("Host", SITE)
                .header("X-Client-Id", "client-" + (index % CLIENTS))
                .timeout(Duration.ofSeconds(30))
                .GET()
                .build();
    }

    private String stateOf(RoutingService routing, String serverId) throws Exception {
        var response = http.send(HttpRequest.newBuilder(routing.restUri().resolve("/api/lb/pools/" + POOL)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            return "";
        }
        for (JsonNode member : Json.mapper().readTree(response.body()).get("members")) {
            if (member.get("serverId").asText().equals(serverId)) {
                return member.get("state").asText();
            }
        }
        return "";
    }

    @Test
    void stoppedServerLosesNoRequest(EmbeddedStack stack) throws Exception {
        String bootstrap = stack.bootstrapServers();
        HikariDataSource database = Database.pool(stack.postgres().jdbcUrl(), 2);
        started.add(database);
        Database.migrate(database);
        CatalogueSeeder.seed(database, 4, PRODUCTS, 11L);
        publishDnsRecord(bootstrap);

        var routing = RoutingService.start(RoutingConfig.from(Settings.of(Map.of(
                "bootstrap.servers", bootstrap,
                "application.id", "routing-failover-it",
                "state.dir", Files.createTempDirectory("routing-failover-it-").toString(),
                "commit.interval.ms", "50",
                "fetch.max.wait.ms", "20",
                "lb.addresses", "lb-1",
                "rest.port", "0"))), new SimpleMeterRegistry());
        started.add(routing);
        assertThat(routing.awaitRunning(TIMEOUT)).as("routing running").isTrue();
        var appServers = List.of(startAppServer(stack, "app-1"), startAppServer(stack, "app-2"),
                startAppServer(stack, "app-3"));
        var frontDoor = FrontDoor.start(IngestConfig.from(Settings.of(Map.of(
                "bootstrap.servers", bootstrap,
                "http.port", "0",
                "response.timeout.ms", "20000"))), new SimpleMeterRegistry());
        started.add(frontDoor);

        await().atMost(TIMEOUT).until(() -> appServers.stream().allMatch(AppServer::ready)
                && stateOf(routing, "app-1").equals("UP") && stateOf(routing, "app-2").equals("UP")
                && stateOf(routing, "app-3").equals("UP"));
        await().atMost(TIMEOUT).until(() -> http.send(productRequest(frontDoor.uri(), 0),
                HttpResponse.BodyHandlers.ofString()).statusCode() == 200);

        // A steady stream paced by a scheduler; app-2 stops in the middle, on a thread of its own.
        Map<Integer, CompletableFuture<HttpResponse<String>>> answers = new ConcurrentHashMap<>();
        var sender = Executors.newScheduledThreadPool(1);
        started.add(sender::shutdownNow);
        var stopper = new Thread(appServers.get(1)::close, "stop-app-2");
        var next = new AtomicInteger();
        sender.scheduleAtFixedRate(() -> {
            int index = next.getAndIncrement();
            if (index >= REQUESTS) {
                return;
            }
            answers.put(index, http.sendAsync(productRequest(frontDoor.uri(), index), HttpResponse.BodyHandlers.ofString()));
            if (index == STOP_SERVER_AFTER) {
                stopper.start();
            }
        }, 0, REQUEST_INTERVAL_MS, TimeUnit.MILLISECONDS);
        await().atMost(TIMEOUT).until(() -> answers.size() == REQUESTS);
        CompletableFuture.allOf(answers.values().toArray(CompletableFuture[]::new)).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        stopper.join(TIMEOUT.toMillis());

        Map<Integer, Integer> byStatus = new TreeMap<>();
        Map<String, Integer> byServerBefore = new TreeMap<>();
        Map<String, Integer> byServerAfter = new TreeMap<>();
        var requestIds = new java.util.HashSet<String>();
        for (var entry : answers.entrySet()) {
            HttpResponse<String> response = entry.getValue().join();
            byStatus.merge(response.statusCode(), 1, Integer::sum);
            String servedBy = response.headers().firstValue("X-Served-By").orElse("none");
            (entry.getKey() < STOP_SERVER_AFTER ? byServerBefore : byServerAfter).merge(servedBy, 1, Integer::sum);
            response.headers().firstValue("X-Request-Id").ifPresent(requestIds::add);
        }
        System.out.printf("app-server failover IT: %d requests, by status %s, served before the stop %s, after %s%n",
                answers.size(), byStatus, byServerBefore, byServerAfter);

        assertThat(byStatus).as("every request answered 200").containsOnlyKeys(200);
        assertThat(requestIds).as("one answer per request id").hasSize(REQUESTS);
        assertThat(byServerBefore).as("all three served before the stop").containsKeys("app-1", "app-2", "app-3");
        assertThat(stateOf(routing, "app-2")).as("app-2 announced DRAINING, then went silent")
                .isIn("DRAINING", "DOWN");
    }
}
