package dev.backbone.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.events.Settings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Stops the broker under a running front door: requests must get 503 with Retry-After, never hang or vanish. */
class FrontDoorKafkaDownIT {

    @Test
    void brokerDownGives503WithRetryAfter() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.start();
        kafka.createBackboneTopics();
        try (FrontDoor frontDoor = FrontDoor.start(IngestConfig.from(Settings.of(Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "http.port", "0",
                "response.timeout.ms", "20000",
                "kafka.timeout.ms", "1000"))), new SimpleMeterRegistry())) {
            kafka.close();

            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpRequest request = HttpRequest.newBuilder(frontDoor.uri().resolve("/products/1"))
                    .header("Host", "shop.example.com").timeout(Duration.ofSeconds(30)).GET().build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());

            assertThat(response.statusCode()).isEqualTo(503);
            assertThat(response.headers().firstValue("Retry-After")).contains("1");
            assertThat(response.body()).contains("cannot reach Kafka");
            assertThat(frontDoor.pendingRequests()).isZero();
        } finally {
            kafka.close();
        }
    }
}
