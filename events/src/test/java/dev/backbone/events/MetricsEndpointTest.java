package dev.backbone.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MetricsEndpointTest {

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private PrometheusMeterRegistry registry;
    private MetricsEndpoint endpoint;

    @BeforeEach
    void start() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Counter.builder("backbone.test.requests").tag("outcome", "ok").register(registry).increment(3);
        endpoint = MetricsEndpoint.start("127.0.0.1", 0, registry);
    }

    @AfterEach
    void stop() {
        endpoint.close();
        registry.close();
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void getMetricsReturnsPrometheusText() throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(endpoint.uri()).GET());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).contains(MetricsEndpoint.CONTENT_TYPE);
        assertThat(response.body()).contains("# TYPE backbone_test_requests_total counter");
        assertThat(response.body()).contains("backbone_test_requests_total{outcome=\"ok\"} 3.0");
    }

    @Test
    void uriNamesHostPortAndPath() {
        URI uri = endpoint.uri();

        assertThat(uri.getScheme()).isEqualTo("http");
        assertThat(uri.getHost()).isEqualTo("127.0.0.1");
        assertThat(uri.getPort()).isPositive();
        assertThat(uri.getPath()).isEqualTo("/metrics");
    }

    @Test
    void jvmMetricsAppearOnceBound() throws Exception {
        MetricsEndpoint.bindJvmMetrics(registry);

        String body = send(HttpRequest.newBuilder(endpoint.uri()).GET()).body();

        assertThat(body).contains("jvm_memory_used_bytes");
        assertThat(body).contains("jvm_gc_");
        assertThat(body).contains("jvm_threads_live_threads");
        assertThat(body).contains("system_cpu_count");
        assertThat(body).contains("jvm_classes_loaded_classes");
    }

    @Test
    void headReturnsHeadersOnly() throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(endpoint.uri()).method("HEAD", HttpRequest.BodyPublishers.noBody()));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).contains(MetricsEndpoint.CONTENT_TYPE);
        assertThat(response.body()).isEmpty();
    }

    @Test
    void otherPathReturnsJson404() throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(endpoint.uri().resolve("/health%22x")).GET());

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.headers().firstValue("Content-Type")).contains("application/json");
        assertThat(Json.mapper().readTree(response.body()).path("path").asText()).isEqualTo("/health\"x");
    }

    @Test
    void postReturns405WithAllow() throws Exception {
        HttpResponse<String> response = send(HttpRequest.newBuilder(endpoint.uri()).POST(HttpRequest.BodyPublishers.ofString("x")));

        assertThat(response.statusCode()).isEqualTo(405);
        assertThat(response.headers().firstValue("Allow")).contains("GET, HEAD");
        assertThat(Json.mapper().readTree(response.body()).path("error").asText()).isEqualTo("method not allowed");
    }

    @Test
    void closeIsIdempotentAndStopsServing() {
        URI uri = endpoint.uri();

        endpoint.close();
        endpoint.close();

        assertThatThrownBy(() -> send(HttpRequest.newBuilder(uri).GET())).isInstanceOf(ConnectException.class);
    }

    @Test
    void portInUseIsReported() {
        int usedPort = endpoint.uri().getPort();

        assertThatThrownBy(() -> MetricsEndpoint.start("127.0.0.1", usedPort, registry))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("127.0.0.1:" + usedPort)
                .hasMessageContaining("metrics.port")
                .hasCauseInstanceOf(IOException.class);
    }
}
