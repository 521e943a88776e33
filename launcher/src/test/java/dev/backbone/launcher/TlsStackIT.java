package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.embedded.SelfSignedCertificate;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The one-JVM stack as {@code backbone serve --tls --rate-limit} runs it: the front door and the edges serve HTTPS
 * with a new self-signed certificate, static content is redirected to https edge URLs, the edges fetch from the HTTPS
 * front door, and the front door limits each client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsStackIT {

    /** Requests per client before 429; the rate is so low that no token comes back during the test. */
    private static final int BURST = 4;

    private Path directory;
    private LocalStack stack;
    private HttpClient client;

    @BeforeAll
    void start() throws Exception {
        directory = Files.createTempDirectory("backbone-tls-stack-");
        stack = LocalStack.start(StackOptions.ephemeral(1, 50, 2).withTls(directory).withRateLimit(0.001, BURST), step -> { });
        client = stack.httpClient(Duration.ofSeconds(5));
    }

    @AfterAll
    void stop() throws Exception {
        if (stack != null) {
            stack.close();
        }
        try (var paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    @Test
    void certificateFilesWritten() throws Exception {
        SelfSignedCertificate certificate = stack.certificate().orElseThrow();

        assertThat(certificate.certificatePem()).isEqualTo(directory.resolve(SelfSignedCertificate.CERTIFICATE_FILE));
        assertThat(Files.readString(certificate.certificatePem())).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(certificate.keyStore()))).isEqualTo("rw-------");
    }

    @Test
    void productReadOverHttps() throws Exception {
        HttpResponse<String> response = client.send(request(stack.frontDoorUri().resolve("/products/7"), "reader")
                .build(), HttpResponse.BodyHandlers.ofString());

        assertThat(stack.frontDoorUri().getScheme()).isEqualTo("https");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("\"id\":7");
    }

    @Test
    void staticContentRedirectsToHttpsEdge() throws Exception {
        HttpResponse<String> redirect = client.send(request(stack.frontDoorUri().resolve("/static/css/site.css"), "styled")
                .header("X-Client-Region", "eu-west").build(), HttpResponse.BodyHandlers.ofString());
        URI location = URI.create(redirect.headers().firstValue("Location").orElseThrow());

        HttpResponse<String> fromEdge = client.send(request(location, "styled").build(), HttpResponse.BodyHandlers.ofString());

        assertThat(redirect.statusCode()).isEqualTo(302);
        assertThat(location.getScheme()).isEqualTo("https");
        assertThat(location.getPort()).isEqualTo(stack.edgeUris().get("eu-west").getPort());
        assertThat(fromEdge.statusCode()).isEqualTo(200);
        assertThat(fromEdge.headers().firstValue("X-Cache")).hasValue("MISS");
    }

    @Test
    void clientWithoutTheCertificateFails() {
        assertThatThrownBy(() -> HttpClient.newHttpClient().send(request(stack.frontDoorUri().resolve("/products/1"), "x")
                .build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void clientPastBurstGets429() throws Exception {
        for (int i = 0; i < BURST; i++) {
            HttpResponse<String> response = client.send(request(stack.frontDoorUri().resolve("/products/3"), "hasty")
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
        }

        HttpResponse<String> limited = client.send(request(stack.frontDoorUri().resolve("/products/3"), "hasty").build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("Retry-After")).isPresent();
        assertThat(limited.body()).contains("hasty");
    }

    private static HttpRequest.Builder request(URI uri, String clientId) {
        return HttpRequest.newBuilder(uri).header("Host", LocalStack.SITE).header("X-Client-Id", clientId)
                .timeout(Duration.ofSeconds(20)).GET();
    }
}
