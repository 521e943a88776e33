package dev.backbone.cdn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.cdn.TestOrigin.Reply;
import dev.backbone.embedded.SelfSignedCertificate;
import dev.backbone.events.TlsStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS at the edge, towards clients and towards the origin, with a self-signed certificate for 127.0.0.1. No Kafka. */
class CdnEdgeTlsTest {

    private static final String BODY = "body over tls";

    @TempDir
    Path directory;

    private SelfSignedCertificate certificate;
    private TestOrigin origin;
    private CdnEdge edge;

    @BeforeEach
    void createCertificate() {
        certificate = SelfSignedCertificate.forLocalhost(directory, Duration.ofDays(1));
    }

    @AfterEach
    void stop() {
        if (edge != null) {
            edge.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    @Test
    void edgeServesHttpsToTrustingClient() throws Exception {
        origin = plainOrigin();
        edge = startEdge(Map.of(
                "tls.keystore.path", certificate.keyStore().toString(),
                "tls.keystore.password", certificate.keyStorePassword()));

        HttpResponse<String> response = trustingClient().send(request(edge.uri()), HttpResponse.BodyHandlers.ofString());

        assertThat(edge.uri().getScheme()).isEqualTo("https");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(BODY);
        assertThat(response.sslSession().orElseThrow().getPeerCertificates()[0]).isEqualTo(certificate.certificate());
    }

    @Test
    void edgeRejectsUntrustingAndPlainClients() throws Exception {
        origin = plainOrigin();
        edge = startEdge(Map.of(
                "tls.keystore.path", certificate.keyStore().toString(),
                "tls.keystore.password", certificate.keyStorePassword()));
        URI plain = URI.create("http://127.0.0.1:" + edge.port() + "/");

        assertThatThrownBy(() -> HttpClient.newHttpClient().send(request(edge.uri()), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(SSLHandshakeException.class);
        assertThatThrownBy(() -> HttpClient.newHttpClient().send(request(plain), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(IOException.class);
    }

    @Test
    void edgeFetchesFromHttpsOriginItTrusts() throws Exception {
        origin = httpsOrigin();
        edge = startEdge(Map.of(EdgeConfig.ORIGIN_TRUST_STORE_PREFIX + ".path", certificate.certificatePem().toString()));

        HttpResponse<String> response = HttpClient.newHttpClient().send(request(edge.uri()), HttpResponse.BodyHandlers.ofString());

        assertThat(origin.uri().getScheme()).isEqualTo("https");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(BODY);
    }

    @Test
    void untrustedOriginCertificateGives502() throws Exception {
        origin = httpsOrigin();
        edge = startEdge(Map.of());

        HttpResponse<String> response = HttpClient.newHttpClient().send(request(edge.uri()), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(502);
        assertThat(origin.fetches("/a")).isZero();
    }

    private CdnEdge startEdge(Map<String, String> extra) {
        var settings = new HashMap<>(Map.of(
                "region", "tls-1",
                "http.port", "0",
                "origin.url", origin.uri().toString()));
        settings.putAll(extra);
        return CdnEdge.start(EdgeConfig.of(settings), new SimpleMeterRegistry());
    }

    private static TestOrigin plainOrigin() throws IOException {
        var origin = new TestOrigin();
        origin.route("/a", request -> Reply.ok(BODY, Map.of("Cache-Control", "max-age=60")));
        return origin;
    }

    private TestOrigin httpsOrigin() throws Exception {
        KeyStore keyStore = new TlsStore(TlsStore.KEY_STORE_PREFIX, certificate.keyStore(), certificate.keyStorePassword(),
                TlsStore.PKCS12, TlsStore.Purpose.KEY_STORE).load();
        var keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keyStore, certificate.keyStorePassword().toCharArray());
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keyManagers.getKeyManagers(), null, null);
        var origin = new TestOrigin(context);
        origin.route("/a", request -> Reply.ok(BODY, Map.of("Cache-Control", "max-age=60")));
        return origin;
    }

    private HttpClient trustingClient() {
        return HttpClient.newBuilder().sslContext(TlsStore.trustingContext(certificate.trustStore())).build();
    }

    private static HttpRequest request(URI base) {
        return HttpRequest.newBuilder(base.resolve("/a")).timeout(Duration.ofSeconds(20)).GET().build();
    }
}
