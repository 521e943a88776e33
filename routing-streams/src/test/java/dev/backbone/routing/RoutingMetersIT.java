package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.Settings;
import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Kafka Streams and side-producer meters of one routing instance, read from its registry and its REST port. */
@ExtendWith(EmbeddedStackExtension.class)
class RoutingMetersIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String APPLICATION_ID = "routing-meters-it";

    private static PrometheusMeterRegistry registry;
    private static RoutingService service;

    @BeforeAll
    static void startRouting(EmbeddedKafka kafka) throws Exception {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        service = RoutingService.start(RoutingConfig.from(Settings.of(Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "application.id", APPLICATION_ID,
                "state.dir", Files.createTempDirectory("routing-meters-it-").toString(),
                "lb.heartbeat.interval.ms", "0",
                "rest.port", "0"))), registry);
        assertThat(service.awaitRunning(TIMEOUT)).as("routing streams running").isTrue();
    }

    @AfterAll
    static void stopRouting() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void kafkaStreamsMetersAreBound() {
        await().atMost(TIMEOUT).untilAsserted(() -> assertThat(registry.getMeters().stream()
                .map(meter -> meter.getId().getName()))
                .anyMatch(name -> name.startsWith("kafka.stream.")));
    }

    @Test
    void sideProducerMetersAreBound() {
        await().atMost(TIMEOUT).untilAsserted(() -> assertThat(registry.getMeters().stream()
                .filter(meter -> meter.getId().getName().startsWith("kafka.producer."))
                .map(meter -> meter.getId().getTag("client.id")))
                .contains(APPLICATION_ID + "-side-producer"));
    }

    @Test
    void metricsPageShowsStreamsMeters() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(service.restUri().resolve("/metrics")).timeout(TIMEOUT).GET().build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("backbone_");
        assertThat(response.body()).contains("kafka_stream_");
        assertThat(response.body()).contains("kafka_producer_");
    }

    @Test
    void closeRemovesKafkaMeters() {
        var closing = RoutingService.start(RoutingConfig.from(Settings.of(Map.of(
                "bootstrap.servers", service.config().bootstrapServers(),
                "application.id", APPLICATION_ID + "-closed",
                "state.dir", service.config().stateDir() + "-closed",
                "lb.heartbeat.interval.ms", "0",
                "rest.port", "0"))), registry);

        closing.close();

        assertThat(registry.getMeters().stream().map(Meter::getId).map(id -> id.getTag("client.id")))
                .noneMatch(clientId -> clientId != null && clientId.startsWith(APPLICATION_ID + "-closed"));
    }
}
