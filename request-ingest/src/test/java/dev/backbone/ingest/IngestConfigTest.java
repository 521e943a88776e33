package dev.backbone.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.embedded.SelfSignedCertificate;
import dev.backbone.events.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IngestConfigTest {

    @Test
    void metricsKeysDefault() {
        var config = IngestConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092")));

        assertThat(config.metricsHost()).isEqualTo("127.0.0.1");
        assertThat(config.metricsPort()).isEqualTo(IngestConfig.DEFAULT_METRICS_PORT);
        assertThat(IngestConfig.DEFAULT_METRICS_PORT).isEqualTo(9401);
    }

    @Test
    void metricsPortBelowMinusOneRejected() {
        var settings = Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092", "metrics.port", "-2"));

        assertThatThrownBy(() -> IngestConfig.from(settings))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("metrics.port=-2 is out of range; accepted: an integer from -1 to 65535");
    }

    @Test
    void rateLimitIsOffByDefault() {
        var config = IngestConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092")));

        assertThat(config.rateLimit().enabled()).isFalse();
        assertThat(config.rateLimit().maxClients()).isEqualTo(IngestConfig.RateLimit.DEFAULT_MAX_CLIENTS);
    }

    @Test
    void rateLimitBurstDefaultsToRateRoundedUp() {
        var config = IngestConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "rate.limit.per.second", "2.5")));

        assertThat(config.rateLimit().enabled()).isTrue();
        assertThat(config.rateLimit().ratePerSecond()).isEqualTo(2.5);
        assertThat(config.rateLimit().burst()).isEqualTo(3);
    }

    @Test
    void rateLimitKeysRead() {
        var config = IngestConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "rate.limit.per.second", "0.5", "rate.limit.burst", "10", "rate.limit.max.clients", "500")));

        assertThat(config.rateLimit()).isEqualTo(new IngestConfig.RateLimit(0.5, 10, 500));
    }

    @Test
    void invalidRateLimitKeysListed() {
        var settings = Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "rate.limit.per.second", "fast", "rate.limit.burst", "0", "rate.limit.max.clients", "-1"));

        assertThatThrownBy(() -> IngestConfig.from(settings))
                .hasMessageContaining("rate.limit.per.second=fast is not a number")
                .hasMessageContaining("rate.limit.burst=0 is out of range; accepted: an integer from 1 to 1000000")
                .hasMessageContaining("rate.limit.max.clients=-1 is out of range");
    }

    @Test
    void tinyRateLimitRejected() {
        var settings = Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092", "rate.limit.per.second", "0.0001"));

        assertThatThrownBy(() -> IngestConfig.from(settings))
                .hasMessageContaining("rate.limit.per.second=1.0E-4 is out of range; accepted: 0 (no limit) or a number from 0.001");
    }

    @Test
    void burstWithoutRateRejected() {
        var settings = Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092", "rate.limit.burst", "5"));

        assertThatThrownBy(() -> IngestConfig.from(settings))
                .hasMessageContaining("rate.limit.burst has no effect while rate.limit.per.second is 0 or not set");
    }

    @Test
    void keyStoreRead(@TempDir Path dir) {
        var certificate = SelfSignedCertificate.forLocalhost(dir, Duration.ofDays(1));

        var config = IngestConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "tls.keystore.path", certificate.keyStore().toString(),
                "tls.keystore.password", certificate.keyStorePassword())));

        assertThat(config.tlsEnabled()).isTrue();
        assertThat(config.tls().type()).isEqualTo("PKCS12");
        assertThat(config.toString()).doesNotContain(certificate.keyStorePassword());
    }

    @Test
    void wrongKeyStorePasswordNamesKeyAndFile(@TempDir Path dir) {
        var certificate = SelfSignedCertificate.forLocalhost(dir, Duration.ofDays(1));
        var settings = Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "tls.keystore.path", certificate.keyStore().toString(),
                "tls.keystore.password", "wrong-password"));

        assertThatThrownBy(() -> IngestConfig.from(settings))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tls.keystore.password is wrong for " + certificate.keyStore())
                .hasMessageNotContaining("wrong-password");
    }

    @Test
    void missingKeyStoreNamesKeyAndFile(@TempDir Path dir) {
        Path missing = dir.resolve("missing.p12");
        var settings = Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092", "tls.keystore.path", missing.toString()));

        assertThatThrownBy(() -> IngestConfig.from(settings))
                .hasMessageContaining("tls.keystore.path=" + missing + " does not exist");
    }

    @Test
    void certificateAloneIsNoKeyStore(@TempDir Path dir) {
        var certificate = SelfSignedCertificate.forLocalhost(dir, Duration.ofDays(1));
        var settings = Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "tls.keystore.path", certificate.certificatePem().toString()));

        assertThatThrownBy(() -> IngestConfig.from(settings))
                .hasMessageContaining("tls.keystore.path=" + certificate.certificatePem() + " cannot be read as a PKCS12 store");
    }

    @Test
    void kafkaKeysReachEveryClient() {
        var values = new HashMap<String, String>();
        values.put("bootstrap.servers", "broker:9093");
        values.put("kafka.security.protocol", "SASL_SSL");
        values.put("kafka.sasl.mechanism", "PLAIN");
        values.put("kafka.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required "
                + "username=\"ingest\" password=\"pw\";");
        values.put("kafka.ssl.truststore.location", "/etc/kafka/ca.p12");
        values.put("kafka.timeout.ms", "3000");
        var config = IngestConfig.from(Settings.of(values));

        for (Map<String, Object> client : java.util.List.of(FrontDoor.producerConfig(config, "p"),
                FrontDoor.consumerConfig(config))) {
            assertThat(client).containsEntry("security.protocol", "SASL_SSL");
            assertThat(client).containsEntry("sasl.mechanism", "PLAIN");
            assertThat(client).containsEntry("ssl.truststore.location", "/etc/kafka/ca.p12");
            assertThat(client).containsKey("sasl.jaas.config");
            assertThat(client).doesNotContainKey("timeout.ms");
        }
        assertThat(FrontDoor.producerConfig(config, "p")).containsEntry(ProducerConfig.ACKS_CONFIG, "all");
        assertThat(FrontDoor.producerConfig(config, "p")).containsEntry(ProducerConfig.MAX_BLOCK_MS_CONFIG, 3000L);
        assertThat(FrontDoor.consumerConfig(config)).containsEntry(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "broker:9093");
        assertThat(config.toString()).doesNotContain("password=\"pw\"");
    }
}
