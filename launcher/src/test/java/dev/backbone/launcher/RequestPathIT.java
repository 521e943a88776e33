package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.DeadLetter;
import dev.backbone.events.Json;
import dev.backbone.events.Topics;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The whole request path in one JVM: HTTP → Kafka → DNS and load balancer → app server → PostgreSQL, and CDC eviction. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RequestPathIT {

    private LocalStack stack;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    void start() {
        stack = LocalStack.start(StackOptions.ephemeral(2, 500, 10), step -> { });
    }

    @AfterAll
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    private HttpResponse<String> get(String host, String path, String clientId) throws Exception {
        var request = HttpRequest.newBuilder(stack.frontDoorUri().resolve(path))
                .header("Host", host).header("X-Client-Id", clientId).timeout(Duration.ofSeconds(20)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private Map<String, Object> productRow(long id) throws Exception {
        try (Connection connection = DriverManager.getConnection(stack.jdbcUrl());
             PreparedStatement statement = connection.prepareStatement("SELECT name, price_cents, version FROM products WHERE id = ?")) {
            statement.setLong(1, id);
            try (ResultSet rs = statement.executeQuery()) {
                assertThat(rs.next()).as("product %d exists in PostgreSQL", id).isTrue();
                return Map.of("name", rs.getString(1), "priceCents", rs.getLong(2), "version", rs.getLong(3));
            }
        }
    }

    @Test
    void getReturnsProductStoredInPostgres() throws Exception {
        HttpResponse<String> response = get(LocalStack.SITE, "/products/42", "alice");

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode product = Json.mapper().readTree(response.body());
        Map<String, Object> row = productRow(42);
        assertThat(product.get("id").asLong()).isEqualTo(42);
        assertThat(product.get("name").asText()).isEqualTo(row.get("name"));
        assertThat(product.get("priceCents").asLong()).isEqualTo(row.get("priceCents"));
        assertThat(product.get("version").asLong()).isEqualTo(row.get("version"));
    }

    @Test
    void directSqlUpdateIsVisibleToNextGet() throws Exception {
        assertThat(get(LocalStack.SITE, "/products/7", "bob").statusCode()).isEqualTo(200);
        assertThat(get(LocalStack.SITE, "/products/7", "carol").statusCode()).isEqualTo(200);

        try (Connection connection = DriverManager.getConnection(stack.jdbcUrl());
             PreparedStatement statement = connection.prepareStatement("UPDATE products SET price_cents = 424242 WHERE id = 7")) {
            assertThat(statement.executeUpdate()).isEqualTo(1);
        }

        // Both clients are asked, because the load balancer may send them to different app servers.
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
            for (String client : List.of("bob", "carol")) {
                JsonNode product = Json.mapper().readTree(get(LocalStack.SITE, "/products/7", client).body());
                assertThat(product.get("priceCents").asLong()).isEqualTo(424242);
            }
        });
    }

    @Test
    void unknownHostIs404NamingTheHost() throws Exception {
        HttpResponse<String> response = get("nowhere.example", "/products/1", "dave");

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).contains("nowhere.example");
        assertThat(Json.mapper().readTree(response.body()).get("host").asText()).isEqualTo("nowhere.example");
    }

    @Test
    void malformedRequestGoesToDeadLetters() throws Exception {
        byte[] key = ("malformed-" + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        byte[] garbage = "{\"schemaVersion\": 1, \"requestId\": ".getBytes(StandardCharsets.UTF_8);
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.CLIENT_REQUESTS.name(), key, garbage)).get();
        }

        List<DeadLetter> letters = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "request-path-it-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(Topics.DEAD_LETTERS.name()));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(record -> letters.add(
                        Topics.DEAD_LETTERS.valueSerde().deserializer().deserialize(record.topic(), record.value())));
                return letters.stream().anyMatch(letter -> Topics.CLIENT_REQUESTS.name().equals(letter.topic())
                        && Base64.getEncoder().encodeToString(key).equals(letter.keyBase64()));
            });
        }
        DeadLetter letter = letters.stream().filter(l -> Base64.getEncoder().encodeToString(key).equals(l.keyBase64())).findFirst().orElseThrow();
        assertThat(letter.valueBase64()).isEqualTo(Base64.getEncoder().encodeToString(garbage));
        assertThat(letter.error()).isNotBlank();
        assertThat(letter.offset()).isGreaterThanOrEqualTo(0);

        assertThat(get(LocalStack.SITE, "/products/3", "erin").statusCode()).isEqualTo(200);
    }

    @Test
    void loadCommandSendsOpenLoopRequests() {
        ConsoleCapture.Result result = ConsoleCapture.run(() -> Backbone.run("load", "--url", stack.frontDoorUri().toString(),
                "--rate", "100", "--duration", "2", "--products", "500", "--write-ratio", "0"));

        assertThat(result.exitCode()).as("exit code; output:%n%s", result.out()).isZero();
        assertThat(result.out()).contains("200/200 sent").containsPattern("status 200\\s+200\\b").contains("latency");
    }

    @Test
    void replayCommandReplaysAccessLogSkippingBadLines(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path log = dir.resolve("access.log");
        java.nio.file.Files.writeString(log, String.join("\n",
                "203.0.113.1 - - [04/Dec/2026:20:00:00 +0000] \"GET /products/1 HTTP/1.1\" 200 10",
                "this line is not a log line",
                "203.0.113.2 - - [04/Dec/2026:20:00:00 +0000] \"GET /products/2 HTTP/1.1\" 200 10 \"-\" \"curl/8\"",
                "{\"time\":\"2026-12-04T20:00:01Z\",\"client\":\"203.0.113.3\",\"path\":\"/products/3\"}",
                ""));

        ConsoleCapture.Result result = ConsoleCapture.run(() -> Backbone.run("replay", log.toString(),
                "--url", stack.frontDoorUri().toString(), "--speed", "10"));

        assertThat(result.exitCode()).as("exit code; output:%n%s", result.out()).isZero();
        assertThat(result.out()).contains("Replaying 3 entries").containsPattern("status 200\\s+3\\b");
        assertThat(result.err()).contains("line 2 skipped").contains("1 of 4 lines skipped");
    }

    @Test
    void queryCommandShowsPoolAndTrace() throws Exception {
        HttpResponse<String> response = get(LocalStack.SITE, "/products/11", "frank");
        String requestId = response.headers().firstValue("X-Request-Id").orElseThrow();
        String api = stack.routingApiUri().toString();

        ConsoleCapture.Result pool = ConsoleCapture.run(() -> Backbone.run("query", "pool", "shop", "--api", api));
        ConsoleCapture.Result trace = ConsoleCapture.run(() -> Backbone.run("query", "trace", requestId, "--api", api));
        ConsoleCapture.Result unknown = ConsoleCapture.run(() -> Backbone.run("query", "trace", "no-such-request", "--api", api));
        ConsoleCapture.Result resolve = ConsoleCapture.run(() -> Backbone.run("query", "resolve", LocalStack.SITE,
                "--client", "frank", "--region", "us-east", "--api", api));

        assertThat(pool.exitCode()).as("pool output:%n%s%s", pool.out(), pool.err()).isZero();
        assertThat(pool.out()).contains("app-1").contains("app-2").contains("UP");
        assertThat(trace.exitCode()).as("trace output:%n%s%s", trace.out(), trace.err()).isZero();
        assertThat(trace.out()).contains(requestId).contains("frank");
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(resolve.exitCode()).as("resolve output:%n%s%s", resolve.out(), resolve.err()).isZero();
        assertThat(resolve.out()).contains("resolved by").contains("cache");
    }
}
