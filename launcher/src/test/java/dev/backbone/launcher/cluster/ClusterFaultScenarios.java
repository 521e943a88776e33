package dev.backbone.launcher.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Invalidation;
import dev.backbone.events.Json;
import dev.backbone.events.Topics;
import dev.backbone.launcher.LocalStack;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Fault tests on a multi-process {@link Cluster}: every service a JVM of its own on 127.0.0.1. Each test breaks one
 * thing under load, prints what it did and what was lost, and leaves the cluster whole again for the next. Every load
 * is bounded in count and time. A subclass chooses the Kafka and PostgreSQL that the cluster runs on:
 * {@link ClusterFaultsIT} uses the in-process ones, and {@link ContainersClusterFaultsIT} uses containers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class ClusterFaultScenarios {

    private static final int PRODUCTS = 200;
    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Cluster cluster;

    /**
     * Starts the cluster that the scenarios run on, with {@code options} and {@link Cluster#stopBroker()} working.
     * Returns {@code null} when this variant cannot run here, and every scenario is then skipped with
     * {@link #skipMessage()}.
     */
    protected abstract Cluster startCluster(ClusterOptions options, Consumer<String> progress);

    /** Returns why every scenario is skipped when {@link #startCluster} returned {@code null}. */
    protected String skipMessage() {
        return getClass().getSimpleName() + " started no cluster";
    }

    /** Stops what {@link #startCluster} started besides the cluster. Runs after the cluster is closed. */
    protected void stopServices() {
    }

    @BeforeAll
    void start() {
        var options = ClusterOptions.defaults().withShape(2, 3, List.of());
        options = new ClusterOptions(0, options.routingInstances(), options.appServers(), options.edgeRegions(), PRODUCTS,
                10, options.adminToken(), options.authSecret(), "", null, options.jvmOptions());
        cluster = startCluster(options, step -> System.out.println("[cluster] " + step));
    }

    @AfterAll
    void stop() {
        try {
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            stopServices();
        }
    }

    /**
     * Waits until the front door returns 200. Without a cluster it skips each scenario rather than the class, so that
     * the build output counts them as skipped.
     */
    @BeforeEach
    void clusterAnswers() {
        assumeTrue(cluster != null, this::skipMessage);
        LocalStack.awaitFirstAnswer(cluster.frontDoorUri(), Duration.ofSeconds(60));
    }

    @Test
    @Order(1)
    void pausedAppServerIsMarkedDownThenUpWithoutFlapping() throws Exception {
        ServiceProcess server = cluster.service("app-3");
        URI pool = cluster.routingApiUris().get(0).resolve("/api/lb/pools/" + LocalStack.POOL);
        awaitState(pool, "app-3", "UP", Duration.ofSeconds(30));

        // Requests keep coming during and after the pause. The pause outlasts the group's 6 s session timeout, so the
        // paused server's partitions move away, and its offset commits fail when it wakes up.
        List<String> seen = new ArrayList<>();
        var load = new SteadyLoad(cluster.frontDoorUri(), 40, 1200, PRODUCTS);
        // The pause starts 2 s into the load, on the load's hook thread, and the states are sampled there too.
        List<SteadyLoad.Outcome> answered = load.run(Map.of(2.0, () -> {
            long startedAt = System.nanoTime();
            server.pause();
            System.out.println("[pause] SIGSTOP app-3 (pid " + server.pid() + ") for 12 s under 40 requests/s; the "
                    + "heartbeat timeout is 3 s, the group session timeout 6 s");
            try {
                observe(pool, "app-3", seen, startedAt, Duration.ofSeconds(12));
                server.resume();
                System.out.println("[pause] SIGCONT app-3");
                observe(pool, "app-3", seen, startedAt, Duration.ofSeconds(24));
            } catch (Exception e) {
                server.resume();
                throw new IllegalStateException("sampling the states of app-3 failed: " + e, e);
            }
        }));

        List<String> runs = collapse(seen);
        System.out.println("[pause] app-3 states, one sample per 100 ms, repeats collapsed: " + runs);
        assertThat(runs).as("app-3 goes DOWN while paused").contains("DOWN");
        assertThat(runs.get(runs.size() - 1)).as("app-3 is UP again after the pause").isEqualTo("UP");
        assertThat(runs.stream().filter("DOWN"::equals).count()).as("DOWN runs, more than one would be flapping").isEqualTo(1);
        int down = runs.indexOf("DOWN");
        assertThat(runs.subList(down + 1, runs.size())).as("after DOWN, no state but JOINING on the way back to UP")
                .allMatch(state -> state.equals("JOINING") || state.equals("UP"));
        assertThat(runs.subList(down + 1, runs.size()).stream().filter("UP"::equals).count())
                .as("UP reached once after recovery and held").isEqualTo(1);

        System.out.println("[pause] " + SteadyLoad.summary(answered) + " during and after the pause");
        assertThat(answered).as("every request answered: a response or 504, nothing lost")
                .allMatch(o -> o.status() == 200 || o.status() == 504);
        cluster.awaitAppServersAssigned(3, Duration.ofSeconds(60));
        assertThat(server.tail(10_000)).as("app-3's request consumer survived the pause")
                .doesNotContain("Request consumer stopped after an unexpected error");
        System.out.println("[pause] after: app-3 owns partitions again and its request consumer is running");
    }

    @Test
    @Order(2)
    void killedAppServerLosesNoAcceptedRequest() {
        ServiceProcess victim = cluster.service("app-2");
        var load = new SteadyLoad(cluster.frontDoorUri(), 40, 600, PRODUCTS);
        List<SteadyLoad.Outcome> outcomes = load.run(Map.of(5.0, () -> {
            System.out.println("[kill app] kill -9 app-2 (pid " + victim.pid() + ") at request 200 of 600");
            victim.kill();
        }));

        Map<String, Long> responsesPerRequest = countByKey(Topics.RESPONSES.name());
        long duplicates = outcomes.stream().filter(o -> o.requestId() != null)
                .mapToLong(o -> Math.max(0, responsesPerRequest.getOrDefault(o.requestId(), 0L) - 1)).sum();
        long ok = SteadyLoad.count(outcomes, o -> o.status() == 200);
        System.out.println("[kill app] " + SteadyLoad.summary(outcomes) + "; lost: " + (outcomes.size() - ok)
                + "; duplicate responses on " + Topics.RESPONSES.name() + " (dropped by the front door): " + duplicates);
        assertThat(outcomes).as("every request answered 200 once").allMatch(o -> o.status() == 200);
        assertThat(outcomes).extracting(SteadyLoad.Outcome::requestId).doesNotHaveDuplicates();

        cluster.restart("app-2");
        cluster.awaitAppServersAssigned(3, Duration.ofSeconds(60));
    }

    @Test
    @Order(3)
    void restartedInvalidatorLosesNoInvalidation() throws Exception {
        ServiceProcess invalidator = cluster.service("cache-invalidator");
        Map<Long, Long> lastVersion = new HashMap<>();
        List<long[]> updates = new ArrayList<>();
        var random = new SplittableRandom(7);
        try (Connection connection = DriverManager.getConnection(cluster.jdbcUrl());
             PreparedStatement update = connection.prepareStatement(
                     "UPDATE products SET price_cents = price_cents + 1 WHERE id = ? RETURNING version")) {
            long startedAt = System.nanoTime();
            for (int i = 0; i < 300; i++) {
                long intendedAt = startedAt + i * TimeUnit.MILLISECONDS.toNanos(50);
                for (long wait = intendedAt - System.nanoTime(); wait > 0; wait = intendedAt - System.nanoTime()) {
                    LockSupport.parkNanos(Math.min(wait, 1_000_000L));
                }
                if (i == 80) {
                    System.out.println("[invalidator] SIGTERM cache-invalidator at update 80 of 300");
                    invalidator.stop(Duration.ofSeconds(20));
                }
                if (i == 160) {
                    System.out.println("[invalidator] starting cache-invalidator again at update 160");
                    invalidator.start();
                }
                long id = 1 + random.nextInt(PRODUCTS);
                update.setLong(1, id);
                try (ResultSet result = update.executeQuery()) {
                    result.next();
                    long version = result.getLong(1);
                    updates.add(new long[] {id, version});
                    lastVersion.put(id, version);
                }
            }
        }
        cluster.restart("cache-invalidator");

        Set<String> missing = new HashSet<>();
        Map<String, Long> seenCount = new HashMap<>();
        Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            seenCount.clear();
            for (ConsumerRecord<String, String> record : readAll(Topics.CACHE_INVALIDATIONS.name())) {
                Invalidation invalidation = Json.mapper().readValue(record.value(), Invalidation.class);
                seenCount.merge(invalidation.cacheKey() + "@" + invalidation.version(), 1L, Long::sum);
            }
            missing.clear();
            for (long[] u : updates) {
                String key = "product:" + u[0] + "@" + u[1];
                if (!seenCount.containsKey(key)) {
                    missing.add(key);
                }
            }
            return missing.isEmpty();
        });
        long duplicates = updates.stream().mapToLong(u -> seenCount.getOrDefault("product:" + u[0] + "@" + u[1], 0L) - 1).sum();
        System.out.println("[invalidator] " + updates.size() + " updates, " + (updates.size() - missing.size())
                + " with their invalidation, missing: " + missing.size() + ", duplicates (harmless, replayed): " + duplicates);
        assertThat(missing).isEmpty();

        // Every app server evicted the old rows: reads through the front door return the last version.
        List<Long> sample = lastVersion.keySet().stream().limit(30).toList();
        Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (long id : sample) {
                JsonNode product = getProduct(id, "reader-" + id);
                assertThat(product.path("version").asLong()).as("version of product %d", id).isEqualTo(lastVersion.get(id));
            }
        });
    }

    @Test
    @Order(4)
    void killedRoutingInstanceHandsOverRoutingAndQueries() {
        URI survivor = cluster.routingApiUris().get(1);
        List<String> clients = java.util.stream.IntStream.range(0, 20).mapToObj(i -> "iq-" + i).toList();
        Map<String, String> answeredBefore = new LinkedHashMap<>();
        Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (String client : clients) {
                HttpResponse<String> response = resolve(survivor, client);
                assertThat(response.statusCode()).isEqualTo(200);
                answeredBefore.put(client, Json.mapper().readTree(response.body()).path("answeredBy").asText());
            }
        });
        System.out.println("[kill routing] before: resolve through routing-2 answered by " + new HashSet<>(answeredBefore.values()));

        ServiceProcess victim = cluster.service("routing-1");
        var load = new SteadyLoad(cluster.frontDoorUri(), 20, 600, PRODUCTS);
        AtomicBoolean killed = new AtomicBoolean();
        List<SteadyLoad.Outcome> outcomes = load.run(Map.of(5.0, () -> {
            System.out.println("[kill routing] kill -9 routing-1 (pid " + victim.pid() + ") at request 100 of 600");
            victim.kill();
            killed.set(true);
        }));
        assertThat(killed).isTrue();
        long ok = SteadyLoad.count(outcomes, o -> o.status() == 200);
        long timedOut = SteadyLoad.count(outcomes, o -> o.status() == 504);
        List<SteadyLoad.Outcome> late = outcomes.stream().filter(o -> o.startedAtMs() >= 25_000).toList();
        System.out.println("[kill routing] " + SteadyLoad.summary(outcomes) + "; 504 while the group noticed the kill: "
                + timedOut + "; requests sent 25 s after the start or later: " + late.size() + ", answered 200: "
                + SteadyLoad.count(late, o -> o.status() == 200));
        assertThat(outcomes).as("every request answered: a response or 504, nothing lost")
                .allMatch(o -> o.status() == 200 || o.status() == 504);
        assertThat(late).as("requests after the rebalance are routed by routing-2").isNotEmpty()
                .allMatch(o -> o.status() == 200);
        assertThat(ok).isGreaterThan(0);

        Awaitility.await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            for (String client : clients) {
                HttpResponse<String> response = resolve(survivor, client);
                assertThat(response.statusCode()).as("resolve for %s: %s", client, response.body()).isEqualTo(200);
                assertThat(Json.mapper().readTree(response.body()).path("answeredBy").asText()).contains("127.0.0.1:"
                        + survivor.getPort());
            }
        });
        System.out.println("[kill routing] after: every interactive query answered by routing-2 itself");
        cluster.restart("routing-1");
    }

    @Test
    @Order(5)
    void brokerOutageGets503AndLosesNoAcknowledgedRequest() {
        var load = new SteadyLoad(cluster.frontDoorUri(), 20, 600, PRODUCTS);
        List<SteadyLoad.Outcome> outcomes = load.run(Map.of(5.0, () -> {
            System.out.println("[broker] taking the broker away at request 100 of 600");
            cluster.stopBroker();
            System.out.println("[broker] broker away; bringing it back in 10 s");
            LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(10));
            cluster.restartBroker();
            System.out.println("[broker] broker back");
        }));

        List<SteadyLoad.Outcome> unavailable = outcomes.stream().filter(o -> o.status() == 503).toList();
        Set<String> acknowledged = outcomes.stream().filter(o -> o.status() == 200 || o.status() == 504)
                .map(SteadyLoad.Outcome::requestId).collect(Collectors.toSet());
        Set<String> onTopic = countByKey(Topics.CLIENT_REQUESTS.name()).keySet();
        // Requests are keyed by client id; their ids are in the value.
        Set<String> requestIds = new HashSet<>();
        for (ConsumerRecord<String, String> record : readAll(Topics.CLIENT_REQUESTS.name())) {
            try {
                requestIds.add(Json.mapper().readTree(record.value()).path("requestId").asText());
            } catch (Exception e) {
                // Not a request of this test.
            }
        }
        Set<String> lost = new HashSet<>(acknowledged);
        lost.removeAll(requestIds);
        System.out.println("[broker] " + SteadyLoad.summary(outcomes) + "; 503 with Retry-After: "
                + SteadyLoad.count(unavailable, o -> o.retryAfter() != null) + "; acknowledged: " + acknowledged.size()
                + ", of which missing from " + Topics.CLIENT_REQUESTS.name() + ": " + lost.size() + " (clients keyed: "
                + onTopic.size() + ")");
        assertThat(unavailable).as("503 while the broker is down").isNotEmpty().allMatch(o -> o.retryAfter() != null);
        assertThat(outcomes).as("200, 503 or 504 only").allMatch(o -> o.status() == 200 || o.status() == 503 || o.status() == 504);
        assertThat(lost).as("acknowledged requests missing from the topic").isEmpty();
        LocalStack.awaitFirstAnswer(cluster.frontDoorUri(), Duration.ofSeconds(90));
    }

    private static void observe(URI pool, String server, List<String> seen, long startedAt, Duration until) throws Exception {
        long end = startedAt + until.toNanos();
        while (System.nanoTime() < end) {
            seen.add(state(pool, server));
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
    }

    private static void awaitState(URI pool, String server, String state, Duration timeout) {
        Awaitility.await().atMost(timeout).until(() -> state.equals(state(pool, server)));
    }

    private static String state(URI pool, String server) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(pool).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            return "HTTP " + response.statusCode();
        }
        for (JsonNode member : Json.mapper().readTree(response.body()).path("members")) {
            if (member.path("serverId").asText().equals(server)) {
                return member.path("state").asText();
            }
        }
        return "ABSENT";
    }

    private static List<String> collapse(List<String> states) {
        List<String> runs = new ArrayList<>();
        for (String state : states) {
            if (runs.isEmpty() || !runs.get(runs.size() - 1).equals(state)) {
                runs.add(state);
            }
        }
        return runs;
    }

    private static HttpResponse<String> resolve(URI api, String client) throws Exception {
        URI uri = api.resolve("/api/dns/resolve?name=" + LocalStack.SITE + "&client=" + client + "&region=us-east");
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode getProduct(long id, String client) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(cluster.frontDoorUri().resolve("/products/" + id))
                .header("Host", LocalStack.SITE).header("X-Client-Id", client).timeout(Duration.ofSeconds(15)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("GET /products/%d: %s", id, response.body()).isEqualTo(200);
        return Json.mapper().readTree(response.body());
    }

    private Map<String, Long> countByKey(String topic) {
        Map<String, Long> counts = new HashMap<>();
        for (ConsumerRecord<String, String> record : readAll(topic)) {
            if (record.key() != null) {
                counts.merge(record.key(), 1L, Long::sum);
            }
        }
        return counts;
    }

    private List<ConsumerRecord<String, String>> readAll(String topic) {
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (var consumer = new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(info -> new TopicPartition(topic, info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<String, String>> records = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }
}
