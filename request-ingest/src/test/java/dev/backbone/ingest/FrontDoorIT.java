package dev.backbone.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.Json;
import dev.backbone.events.Settings;
import dev.backbone.events.Topics;
import dev.backbone.events.MetricsEndpoint;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The front door against a real broker. A small echo responder stands in for the routing layer and app servers, which
 * the end-to-end test in the launcher covers: it answers every request whose path does not start with /silent.
 */
@ExtendWith(EmbeddedStackExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FrontDoorIT {

    private FrontDoor frontDoor;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private Thread responder;
    private final AtomicBoolean responding = new AtomicBoolean(true);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    void start(EmbeddedKafka kafka) {
        frontDoor = FrontDoor.start(IngestConfig.from(Settings.of(Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "http.port", "0",
                "reply.partition", "2",
                "response.timeout.ms", "1500",
                "max.body.bytes", "1024",
                "max.event.bytes", "1200"))), registry);
        responder = new Thread(() -> echo(kafka.bootstrapServers()), "echo-responder");
        responder.start();
    }

    @AfterAll
    void stop() throws InterruptedException {
        responding.set(false);
        responder.join(10_000);
        frontDoor.close();
    }

    @Test
    void kafkaClientMetersAreBoundPerClient() {
        await().untilAsserted(() -> assertThat(registry.getMeters().stream()
                .filter(meter -> meter.getId().getName().startsWith("kafka."))
                .map(meter -> meter.getId().getTag("client.id")))
                .contains("backbone-ingest-1", "backbone-ingest-1-dead-letters", "backbone-ingest-1-responses"));
    }

    @Test
    void metricsEndpointServesFrontDoorMeters() throws Exception {
        var config = IngestConfig.from(Settings.of(Map.of(
                "bootstrap.servers", "127.0.0.1:9092",
                "metrics.port", "0")));

        try (MetricsEndpoint endpoint = Main.startMetrics(config, registry)) {
            HttpResponse<String> response = send(HttpRequest.newBuilder(endpoint.uri()).GET());

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).contains(MetricsEndpoint.CONTENT_TYPE);
            assertThat(response.body()).contains("backbone_ingest_pending");
            assertThat(response.body()).contains("kafka_producer_");
            assertThat(response.body()).contains("kafka_consumer_");
        }
    }

    @Test
    void metricsPortMinusOneTurnsEndpointOff() {
        var config = IngestConfig.from(Settings.of(Map.of(
                "bootstrap.servers", "127.0.0.1:9092",
                "metrics.port", "-1")));

        assertThat(Main.startMetrics(config, registry)).isNull();
    }

    /** Answers each request with 200 and a JSON echo of what the front door published, on the request's reply partition. */
    private void echo(String bootstrap) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "echo-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50), new StringDeserializer(), Topics.CLIENT_REQUESTS.valueSerde().deserializer());
             var producer = new KafkaProducer<>(Map.<String, Object>of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all"),
                     new StringSerializer(), Topics.RESPONSES.valueSerde().serializer())) {
            consumer.subscribe(List.of(Topics.CLIENT_REQUESTS.name()));
            while (responding.get()) {
                for (var record : consumer.poll(Duration.ofMillis(100))) {
                    ClientRequest request = record.value();
                    if (request.path().startsWith("/silent")) {
                        continue;
                    }
                    var body = Json.mapper().valueToTree(request).toString();
                    var response = new ClientResponse(ClientResponse.SCHEMA_VERSION, request.requestId(), 200,
                            Map.of("content-type", "application/json"), body, "echo", System.currentTimeMillis());
                    producer.send(new ProducerRecord<>(Topics.RESPONSES.name(), request.replyPartition(), request.requestId(), response));
                }
            }
        }
    }

    private HttpResponse<String> send(HttpRequest.Builder builder) throws Exception {
        return http.send(builder.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder to(String path) {
        return HttpRequest.newBuilder(frontDoor.uri().resolve(path)).header("Host", "shop.example.com");
    }

    @Test
    void requestBecomesEventAndAnswerReturns() throws Exception {
        HttpResponse<String> response = send(to("/products/42?x=1").header("X-Client-Id", "alice")
                .header("X-Client-Region", "eu-west").header("X-Client-Country", "DE")
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString("{\"priceCents\":5}")));

        assertThat(response.statusCode()).isEqualTo(200);
        var echoed = Json.mapper().readValue(response.body(), ClientRequest.class);
        assertThat(echoed.clientId()).isEqualTo("alice");
        assertThat(echoed.region()).isEqualTo("eu-west");
        assertThat(echoed.country()).isEqualTo("DE");
        assertThat(echoed.host()).isEqualTo("shop.example.com");
        assertThat(echoed.method()).isEqualTo("PUT");
        assertThat(echoed.path()).isEqualTo("/products/42");
        assertThat(echoed.query()).isEqualTo("x=1");
        assertThat(echoed.body()).isEqualTo("{\"priceCents\":5}");
        assertThat(echoed.replyPartition()).isEqualTo(2);
        assertThat(echoed.header("content-type")).isEqualTo("application/json");
        assertThat(response.headers().firstValue("X-Request-Id")).contains(echoed.requestId());
        assertThat(response.headers().firstValue("X-Served-By")).contains("echo");
    }

    @Test
    void missingIdentityHeadersGetDefaults() throws Exception {
        HttpResponse<String> response = send(to("/").GET());

        assertThat(response.statusCode()).isEqualTo(200);
        var echoed = Json.mapper().readValue(response.body(), ClientRequest.class);
        assertThat(echoed.clientId()).startsWith("ip-127.0.0.1");
        assertThat(echoed.region()).isEqualTo("us-east");
        assertThat(echoed.country()).isEqualTo("US");
    }

    @Test
    void invalidRegionHeaderIs400NamingTheHeader() throws Exception {
        HttpResponse<String> response = send(to("/products/1").header("X-Client-Region", "EU West!").GET());

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("X-Client-Region").contains("EU West!").contains("accepted");
    }

    @Test
    void invalidCountryHeaderIs400() throws Exception {
        HttpResponse<String> response = send(to("/products/1").header("X-Client-Country", "Germany").GET());

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("X-Client-Country");
    }

    @Test
    void oversizedBodyIs413() throws Exception {
        HttpResponse<String> response = send(to("/products/1").PUT(HttpRequest.BodyPublishers.ofString("x".repeat(5000))));

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.body()).contains("max.body.bytes");
        // The body stays unread and Jetty closes the connection, so the response carries Connection: close.
        assertThat(response.headers().firstValue("connection")).hasValue("close");
    }

    @Test
    void invalidUtf8BodyIs400() throws Exception {
        byte[] invalid = {(byte) 0xC3, (byte) 0x28, 'a'};
        HttpResponse<String> response = send(to("/products/1").PUT(HttpRequest.BodyPublishers.ofByteArray(invalid)));

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("UTF-8");
    }

    @Test
    void unansweredRequestIs504AfterTimeout() throws Exception {
        HttpResponse<String> response = send(to("/silent").GET());

        assertThat(response.statusCode()).isEqualTo(504);
        assertThat(response.body()).contains("response.timeout.ms");
    }

    @Test
    void batchLinesPublishedNotAwaited() throws Exception {
        double unmatchedBefore = registry.get("backbone.ingest.unmatched.responses").gauge().value();
        double unawaitedBefore = registry.get("backbone.ingest.unawaited.responses").functionCounter().count();
        String body = """
                {"path": "/products/1", "clientId": "batch-alice"}
                {"path": "/products/2?x=1", "region": "eu-west", "country": "DE"}
                {"path": "/products/3", "region": "Nowhere"}
                """;

        HttpResponse<String> response = send(to(BatchIngest.PATH).header("X-Client-Id", "batch-caller")
                .POST(HttpRequest.BodyPublishers.ofString(body)));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(207);
        var answer = Json.mapper().readTree(response.body());
        assertThat(answer.get("accepted").asInt()).isEqualTo(2);
        assertThat(answer.get("errors").get(0).get("line").asInt()).isEqualTo(3);
        assertThat(answer.get("errors").get(0).get("field").asText()).isEqualTo("region");
        // The echo responder answers both lines on this front door's reply partition; they are counted, not matched.
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
                registry.get("backbone.ingest.unawaited.responses").functionCounter().count()).isEqualTo(unawaitedBefore + 2));
        assertThat(registry.get("backbone.ingest.unmatched.responses").gauge().value()).isEqualTo(unmatchedBefore);
        assertThat(frontDoor.pendingRequests()).isZero();
    }

    @Test
    void batchPathAcceptsPostOnly() throws Exception {
        HttpResponse<String> response = send(to(BatchIngest.PATH).GET());

        assertThat(response.statusCode()).isEqualTo(405);
        assertThat(response.headers().firstValue("Allow")).contains("POST");
        assertThat(response.body()).contains("\"field\":\"method\"").contains("POST");
    }

    @Test
    void oversizedChunkedBodyIs413() throws Exception {
        // No Content-Length: the limit shows only while the body is read, and the rest of it stays unread.
        byte[] bytes = "x".repeat(5000).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        HttpResponse<String> response = send(to("/products/1").PUT(HttpRequest.BodyPublishers.ofInputStream(
                () -> new java.io.ByteArrayInputStream(bytes))));

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.body()).contains("max.body.bytes");
        assertThat(response.headers().firstValue("connection")).hasValue("close");
    }

    @Test
    void oversizedBatchBodyIs413() throws Exception {
        HttpResponse<String> response = send(to(BatchIngest.PATH)
                .POST(HttpRequest.BodyPublishers.ofString("{\"path\": \"/a\"}\n".repeat(100))));

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.body()).contains("max.body.bytes");
    }

    @Test
    void batchBadHeaderIs400() throws Exception {
        HttpResponse<String> response = send(to(BatchIngest.PATH).header("X-Client-Region", "Mars")
                .POST(HttpRequest.BodyPublishers.ofString("{\"path\": \"/products/1\"}\n")));

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(Json.mapper().readTree(response.body()).path("field").asText()).isEqualTo("X-Client-Region");
    }

    @Test
    void compressedBatchIs415() throws Exception {
        HttpResponse<String> response = send(to(BatchIngest.PATH).header("Content-Encoding", "gzip")
                .POST(HttpRequest.BodyPublishers.ofString("not really gzip")));

        assertThat(response.statusCode()).isEqualTo(415);
        assertThat(response.body()).contains("Content-Encoding");
    }

    @Test
    void eventOverMaxEventBytesIs413() throws Exception {
        // Within max.body.bytes (1024), but the event around it is larger than max.event.bytes (1200).
        HttpResponse<String> response = send(to("/products/1").PUT(HttpRequest.BodyPublishers.ofString("x".repeat(1000))));

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.body()).contains("max.event.bytes=1200");
    }
}
