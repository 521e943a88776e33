package dev.backbone.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.Json;
import dev.backbone.events.Settings;
import dev.backbone.events.Topics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The per-client rate limit through a real front door and broker. The rate is the lowest accepted, one request per
 * 1000 seconds, so that no token comes back while a test runs and every count is exact.
 */
@ExtendWith(EmbeddedStackExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FrontDoorRateLimitIT {

    private static final int BURST = 3;

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private EmbeddedKafka kafka;
    private FrontDoor frontDoor;
    private EchoResponder echo;

    @BeforeAll
    void start(EmbeddedKafka kafka) {
        this.kafka = kafka;
        frontDoor = FrontDoor.start(IngestConfig.from(Settings.of(Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "http.port", "0",
                "reply.partition", "1",
                "rate.limit.per.second", "0.001",
                "rate.limit.burst", String.valueOf(BURST)))), registry);
        echo = new EchoResponder(kafka.bootstrapServers());
    }

    @AfterAll
    void stop() throws InterruptedException {
        echo.close();
        frontDoor.close();
    }

    @Test
    void clientPastBurstGets429WithRetryAfter() throws Exception {
        String client = "alice-" + UUID.randomUUID();
        for (int i = 0; i < BURST; i++) {
            assertThat(get(client).statusCode()).isEqualTo(200);
        }

        HttpResponse<String> limited = get(client);

        assertThat(limited.statusCode()).isEqualTo(429);
        long retryAfter = Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow());
        assertThat(retryAfter).isBetween(1L, 1000L);
        JsonNode body = Json.mapper().readTree(limited.body());
        assertThat(body.path("error").asText()).isEqualTo("too_many_requests");
        assertThat(body.path("client").asText()).isEqualTo(client);
        assertThat(body.path("ratePerSecond").asText()).isEqualTo("0.001");
        assertThat(body.path("burst").asText()).isEqualTo(String.valueOf(BURST));
        assertThat(body.path("retryAfterSeconds").asText()).isEqualTo(String.valueOf(retryAfter));
        assertThat(body.path("message").asText()).contains(client).contains("rate.limit.per.second")
                .contains("retry after " + retryAfter + " s");
        assertThat(limited.headers().firstValue("X-Request-Id")).isPresent();
    }

    @Test
    void batchCountsAgainstCallerAndEachLinesClient() throws Exception {
        String caller = "erin-" + UUID.randomUUID();
        String lineClient = "frank-" + UUID.randomUUID();
        String body = ("{\"path\": \"/a\", \"clientId\": \"" + lineClient + "\"}\n").repeat(BURST + 1);

        HttpResponse<String> first = http.send(HttpRequest.newBuilder(frontDoor.uri().resolve(BatchIngest.PATH))
                .header("Host", "shop.example.com").header("X-Client-Id", caller)
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(first.statusCode()).as(first.body()).isEqualTo(207);
        JsonNode answer = Json.mapper().readTree(first.body());
        assertThat(answer.get("accepted").asInt()).isEqualTo(BURST);
        assertThat(answer.get("errors").get(0).get("status").asInt()).isEqualTo(429);
        assertThat(answer.get("errors").get(0).get("client").asText()).isEqualTo(lineClient);
        assertThat(first.headers().firstValue("Retry-After")).isPresent();
        // The call itself took one of the caller's tokens.
        for (int i = 0; i < BURST - 1; i++) {
            assertThat(get(caller).statusCode()).isEqualTo(200);
        }
        assertThat(get(caller).statusCode()).isEqualTo(429);
    }

    @Test
    void otherClientIsUnaffected() throws Exception {
        String limited = "bob-" + UUID.randomUUID();
        for (int i = 0; i < BURST; i++) {
            get(limited);
        }
        assertThat(get(limited).statusCode()).isEqualTo(429);

        String other = "carol-" + UUID.randomUUID();
        for (int i = 0; i < BURST; i++) {
            assertThat(get(other).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void rejectedRequestsAreNotPublished() throws Exception {
        String client = "dave-" + UUID.randomUUID();
        Set<String> rejectedIds = new HashSet<>();
        for (int i = 0; i < BURST + 4; i++) {
            HttpResponse<String> response = get(client);
            if (response.statusCode() == 429) {
                rejectedIds.add(response.headers().firstValue("X-Request-Id").orElseThrow());
            }
        }

        List<ConsumerRecord<String, String>> published = recordsOf(client);

        assertThat(rejectedIds).hasSize(4);
        assertThat(published).hasSize(BURST);
        assertThat(published).noneMatch(record -> rejectedIds.stream().anyMatch(record.value()::contains));
    }

    @Test
    void rejectionsAreCounted() throws Exception {
        double before = registry.counter("backbone.ingest.rate.limited").count();
        String client = "erin-" + UUID.randomUUID();
        for (int i = 0; i < BURST + 2; i++) {
            get(client);
        }

        assertThat(registry.counter("backbone.ingest.rate.limited").count()).isEqualTo(before + 2);
        assertThat(registry.scrape()).contains("backbone_ingest_rate_limited_total");
        assertThat(registry.get("backbone.ingest.rate.limit.clients").gauge().value()).isPositive();
    }

    private HttpResponse<String> get(String client) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(frontDoor.uri().resolve("/products/1"))
                .header("Host", "shop.example.com").header("X-Client-Id", client)
                .timeout(Duration.ofSeconds(20)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Reads {@code backbone.client-requests} from the start to its end offsets now. Requests are keyed by client id, and
     * the front door answers an accepted request only after Kafka acknowledged it, so every record of the client that
     * is there at all is there by now.
     */
    private List<ConsumerRecord<String, String>> recordsOf(String client) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < Topics.CLIENT_REQUESTS.partitions(); p++) {
                partitions.add(new TopicPartition(Topics.CLIENT_REQUESTS.name(), p));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<String, String>> found = new ArrayList<>();
            while (partitions.stream().anyMatch(partition -> consumer.position(partition) < end.get(partition))) {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    if (client.equals(record.key())) {
                        found.add(record);
                    }
                }
            }
            return found;
        }
    }
}
