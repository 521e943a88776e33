package dev.backbone.cdn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.embedded.SelfSignedCertificate;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EdgeConfigTest {

    @Test
    void defaults() {
        EdgeConfig config = EdgeConfig.of(Map.of("region", "eu-west", "origin.url", "http://127.0.0.1:8080"));

        assertThat(config.httpHost()).isEqualTo("127.0.0.1");
        assertThat(config.httpPort()).isEqualTo(8090);
        assertThat(config.originUrl().toString()).isEqualTo("http://127.0.0.1:8080/");
        assertThat(config.originHost()).isEmpty();
        assertThat(config.cacheMaxBytes()).isEqualTo(256L * 1024 * 1024);
        assertThat(config.originTimeoutMs()).isEqualTo(10_000);
        assertThat(config.kafkaEnabled()).isFalse();
        assertThat(config.purgeGroupId()).isEqualTo("backbone-cdn-edge-eu-west");
    }

    @Test
    void toStringMasksTokens() {
        EdgeConfig config = EdgeConfig.of(Map.of("region", "eu-west", "origin.url", "http://127.0.0.1:8080/",
                "edge.token", "edge-s3cret", "admin.token", "admin-s3cret"));

        assertThat(config.toString()).doesNotContain("s3cret").contains("edgeToken=(set)").contains("adminToken=(set)");
    }

    @Test
    void reportsEveryProblemAtOnce() {
        assertThatThrownBy(() -> EdgeConfig.of(Map.of("region", "EU West", "origin.url", "ftp://origin",
                "http.port", "99999", "cache.max.bytes", "12")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("region=EU West")
                .hasMessageContaining("origin.url=ftp://origin")
                .hasMessageContaining("http.port=99999")
                .hasMessageContaining("cache.max.bytes=12");
    }

    @Test
    void requiresRegionAndOrigin() {
        assertThatThrownBy(() -> EdgeConfig.of(Map.of()))
                .hasMessageContaining("region is required")
                .hasMessageContaining("origin.url is required");
    }

    @Test
    void tlsIsOffByDefault() {
        EdgeConfig config = EdgeConfig.of(Map.of("region", "eu-west", "origin.url", "http://127.0.0.1:8080"));

        assertThat(config.tlsEnabled()).isFalse();
        assertThat(config.originTrustStore()).isNull();
        assertThat(config.kafkaClient().isEmpty()).isTrue();
    }

    @Test
    void keyAndTrustStoresRead(@TempDir Path dir) {
        var certificate = SelfSignedCertificate.forLocalhost(dir, Duration.ofDays(1));

        EdgeConfig config = EdgeConfig.of(Map.of("region", "eu-west", "origin.url", "https://127.0.0.1:8443/",
                "tls.keystore.path", certificate.keyStore().toString(),
                "tls.keystore.password", certificate.keyStorePassword(),
                "origin.truststore.path", certificate.certificatePem().toString()));

        assertThat(config.tlsEnabled()).isTrue();
        assertThat(config.originTrustStore().type()).isEqualTo("PEM");
        assertThat(config.toString()).doesNotContain(certificate.keyStorePassword());
    }

    @Test
    void wrongKeyStorePasswordNamesKeyAndFile(@TempDir Path dir) {
        var certificate = SelfSignedCertificate.forLocalhost(dir, Duration.ofDays(1));

        assertThatThrownBy(() -> EdgeConfig.of(Map.of("region", "eu-west", "origin.url", "http://127.0.0.1:8080/",
                "tls.keystore.path", certificate.keyStore().toString(),
                "tls.keystore.password", "not-the-password")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tls.keystore.password is wrong for " + certificate.keyStore());
    }

    @Test
    void missingTrustStoreNamesKeyAndFile(@TempDir Path dir) {
        Path missing = dir.resolve("ca.pem");

        assertThatThrownBy(() -> EdgeConfig.of(Map.of("region", "eu-west", "origin.url", "https://127.0.0.1:8443/",
                "origin.truststore.path", missing.toString())))
                .hasMessageContaining("origin.truststore.path=" + missing + " does not exist");
    }

    @Test
    void kafkaKeysReachEveryClient() {
        EdgeConfig config = EdgeConfig.of(Map.of("region", "eu-west", "origin.url", "http://127.0.0.1:8080/",
                "bootstrap.servers", "broker:9093",
                "kafka.security.protocol", "SSL",
                "kafka.ssl.truststore.location", "/etc/kafka/ca.p12",
                "kafka.ssl.truststore.password", "trust-s3cret"));

        for (Map<String, Object> client : List.of(CdnEdge.adminConfig(config), CdnEdge.producerConfig(config),
                CdnEdge.consumerConfig(config))) {
            assertThat(client).containsEntry("security.protocol", "SSL");
            assertThat(client).containsEntry("ssl.truststore.location", "/etc/kafka/ca.p12");
            assertThat(client).containsEntry("ssl.truststore.password", "trust-s3cret");
            assertThat(client).containsEntry("bootstrap.servers", "broker:9093");
        }
        assertThat(config.toString()).doesNotContain("trust-s3cret").contains("kafka.security.protocol=SSL");
    }
}
