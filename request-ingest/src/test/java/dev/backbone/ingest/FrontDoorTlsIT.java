package dev.backbone.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.embedded.SelfSignedCertificate;
import dev.backbone.events.Settings;
import dev.backbone.events.TlsStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * HTTPS at the front door with a self-signed certificate for localhost and 127.0.0.1: a client that trusts only that
 * certificate completes the handshake and verifies the host name; other clients fail.
 */
@ExtendWith(EmbeddedStackExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FrontDoorTlsIT {

    private Path directory;
    private SelfSignedCertificate certificate;
    private FrontDoor frontDoor;
    private EchoResponder echo;
    private SSLContext trustingOnlyTheCertificate;

    @BeforeAll
    void start(EmbeddedKafka kafka) throws IOException {
        directory = Files.createTempDirectory("front-door-tls-");
        certificate = SelfSignedCertificate.forLocalhost(directory, Duration.ofDays(1));
        frontDoor = FrontDoor.start(IngestConfig.from(Settings.of(Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "http.port", "0",
                "reply.partition", "3",
                "tls.keystore.path", certificate.keyStore().toString(),
                "tls.keystore.password", certificate.keyStorePassword()))), new SimpleMeterRegistry());
        echo = new EchoResponder(kafka.bootstrapServers());
        trustingOnlyTheCertificate = TlsStore.trustingContext(certificate.trustStore());
    }

    @AfterAll
    void stop() throws Exception {
        echo.close();
        frontDoor.close();
        try (var files = Files.list(directory)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(directory);
    }

    @Test
    void uriIsHttps() {
        assertThat(frontDoor.uri().getScheme()).isEqualTo("https");
    }

    @Test
    void trustingClientGetsResponseOverTls() throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(trustingOnlyTheCertificate).build();

        HttpResponse<String> response = client.send(request(frontDoor.uri()), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("\"host\":\"shop.example.com\"");
        var session = response.sslSession().orElseThrow();
        assertThat(session.getPeerCertificates()[0]).isEqualTo(certificate.certificate());
    }

    @Test
    void localhostNameMatchesCertificate() throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(trustingOnlyTheCertificate).build();
        URI byName = URI.create("https://localhost:" + frontDoor.port() + "/");

        HttpResponse<String> response = client.send(request(byName), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
    }

    @Test
    void hostNameNotInCertificateFailsVerification() throws Exception {
        // The socket goes to 127.0.0.1, but the TLS layer verifies the certificate against the name given here.
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress("127.0.0.1", frontDoor.port()), 5_000);
            var socket = (SSLSocket) trustingOnlyTheCertificate.getSocketFactory()
                    .createSocket(plain, "not-in-certificate.example", frontDoor.port(), false);
            var parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(parameters);

            assertThatThrownBy(socket::startHandshake)
                    .isInstanceOf(SSLHandshakeException.class)
                    .hasMessageContaining("not-in-certificate.example");
        }
    }

    @Test
    void clientWithDefaultTrustStoreFails() {
        HttpClient client = HttpClient.newHttpClient();

        assertThatThrownBy(() -> client.send(request(frontDoor.uri()), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void plainHttpClientFails() {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI plain = URI.create("http://127.0.0.1:" + frontDoor.port() + "/");

        assertThatThrownBy(() -> client.send(request(plain), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(IOException.class);
    }

    private static HttpRequest request(URI uri) {
        return HttpRequest.newBuilder(uri.resolve("/products/1")).header("Host", "shop.example.com")
                .header("X-Client-Id", "tls-client").timeout(Duration.ofSeconds(20)).GET().build();
    }
}
