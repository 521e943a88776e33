package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Routes that respond before touching Kafka, on a REST server with no admin token configured. */
class RoutingApiHandlerTest {

    private final HttpClient http = HttpClient.newHttpClient();
    private RestServer server;

    @BeforeEach
    void startServer() {
        server = RestServer.bind("127.0.0.1", 0);
        // No admin or query API: every request in these tests must get its response before reaching them.
        server.start(new RoutingApiHandler(null, null, null, new SimpleMeterRegistry(), null, "127.0.0.1:" + server.port()));
    }

    @AfterEach
    void stopServer() {
        server.close();
        server.close();
    }

    private HttpResponse<String> send(String method, String path, String token) throws Exception {
        var builder = HttpRequest.newBuilder(server.uri().resolve(path)).timeout(Duration.ofSeconds(30))
                .method(method, HttpRequest.BodyPublishers.ofString("{}"));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return Json.mapper().readTree(response.body());
    }

    @Test
    void adminRoutesForbiddenWithoutConfiguredToken() throws Exception {
        var put = send("PUT", "/api/dns/records", "any-token-of-enough-length");
        var delete = send("DELETE", "/api/dns/records/global/shop.example.com", null);

        for (var response : new HttpResponse<?>[] {put, delete}) {
            assertThat(response.statusCode()).isEqualTo(403);
        }
        assertThat(json(put).get("error").asText()).isEqualTo("forbidden");
        assertThat(json(put).get("message").asText()).contains("admin.token").contains("BACKBONE_ADMIN_TOKEN");
    }

    @Test
    void metricsNotFoundWithoutPrometheusRegistry() throws Exception {
        var response = send("GET", "/metrics", null);

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(json(response).get("message").asText()).contains("no Prometheus registry");
    }

    @Test
    void wrongMethodsAnswer405WithAllow() throws Exception {
        var resolve = send("POST", "/api/dns/resolve", null);
        var delete = send("GET", "/api/dns/records/global/shop.example.com", null);

        assertThat(resolve.statusCode()).isEqualTo(405);
        assertThat(resolve.headers().firstValue("Allow")).hasValue("GET");
        assertThat(delete.statusCode()).isEqualTo(405);
        assertThat(delete.headers().firstValue("Allow")).hasValue("DELETE");
        assertThat(json(delete).get("allowed").asText()).isEqualTo("DELETE");
    }

    @Test
    void answerNamesInstance() throws Exception {
        var response = send("GET", "/nowhere", null);

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.headers().firstValue("X-Answered-By")).hasValue("127.0.0.1:" + server.port());
    }

    @Test
    void rejectedBodyKeepsTheConnection() throws Exception {
        // The body arrives after the route rejected the request. Jetty closed such connections after the response
        // without "Connection: close" in it, so a client that sent its next request on it got no response.
        try (var socket = new java.net.Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            var out = socket.getOutputStream();
            var in = new java.io.BufferedInputStream(socket.getInputStream());
            out.write(("PUT /api/dns/records HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 2\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(300);
            out.write("{}".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            String first = readResponseHead(in);

            out.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            String second = readResponseHead(in);

            assertThat(first).startsWith("HTTP/1.1 403");
            assertThat(second).startsWith("HTTP/1.1 404");
        }
    }

    /** Reads one response's head and its Content-Length body from a kept connection, and returns the head. */
    private static String readResponseHead(java.io.InputStream in) throws java.io.IOException {
        var head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new java.io.EOFException("connection closed after " + head.length() + " bytes of a response head");
            }
            head.append((char) c);
        }
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                in.readNBytes(Integer.parseInt(line.substring("content-length:".length()).trim()));
            }
        }
        return head.toString();
    }
}
