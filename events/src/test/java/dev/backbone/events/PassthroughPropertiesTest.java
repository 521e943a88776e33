package dev.backbone.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PassthroughPropertiesTest {

    private static final String JAAS = "org.apache.kafka.common.security.scram.ScramLoginModule required "
            + "username=\"backbone\" password=\"s3cret-value\";";

    @Test
    void kafkaKeysLoseTheirPrefix() {
        var settings = Settings.of(Map.of(
                "bootstrap.servers", "broker:9093",
                "kafka.security.protocol", "SASL_SSL",
                "kafka.sasl.mechanism", "SCRAM-SHA-512",
                "kafka.ssl.truststore.location", "/etc/kafka/truststore.p12",
                "http.port", "8080"));

        var kafka = PassthroughProperties.kafka(settings);

        settings.requireValid("test");
        assertThat(kafka.properties()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512",
                "ssl.truststore.location", "/etc/kafka/truststore.p12"));
    }

    @Test
    void environmentVariablesBecomeKafkaKeys() {
        var settings = Settings.load(null, Map.of("BACKBONE_KAFKA_SECURITY_PROTOCOL", "SSL"), Map.of());

        assertThat(PassthroughProperties.kafka(settings).properties()).containsEntry("security.protocol", "SSL");
    }

    @Test
    void frontDoorKafkaTimeoutIsNotPassedOn() {
        var settings = Settings.of(Map.of("kafka.timeout.ms", "5000", "kafka.linger.ms", "3"));

        var kafka = PassthroughProperties.kafka(settings);

        assertThat(kafka.properties()).containsOnlyKeys("linger.ms");
    }

    @Test
    void managedKafkaKeysAreRejectedWithTheReason() {
        var settings = Settings.of(Map.of("kafka.acks", "1", "kafka.bootstrap.servers", "other:9092",
                "kafka.group.id", "mine"));

        var kafka = PassthroughProperties.kafka(settings);

        assertThat(kafka.properties()).isEmpty();
        assertThatThrownBy(() -> settings.requireValid("test"))
                .hasMessageContaining("kafka.acks cannot be set, because every producer waits for all in-sync replicas")
                .hasMessageContaining("kafka.bootstrap.servers cannot be set, because set bootstrap.servers instead")
                .hasMessageContaining("kafka.group.id cannot be set");
    }

    @Test
    void applyToPutsPropertiesOnTopOfTheBase() {
        var kafka = PassthroughProperties.kafka(Settings.of(Map.of("kafka.linger.ms", "20",
                "kafka.security.protocol", "SSL")));

        Map<String, Object> merged = kafka.applyTo(Map.of("linger.ms", 1, "bootstrap.servers", "b:9092"));

        assertThat(merged).containsEntry("linger.ms", "20");
        assertThat(merged).containsEntry("security.protocol", "SSL");
        assertThat(merged).containsEntry("bootstrap.servers", "b:9092");
    }

    @Test
    void applyToPropertiesReplacesValues() {
        var debezium = PassthroughProperties.from(Settings.of(Map.of("debezium.database.sslmode", "verify-full")),
                "debezium.", Map.of(), Set.of());
        var target = new Properties();
        target.setProperty("database.sslmode", "disable");

        debezium.applyTo(target);

        assertThat(target.getProperty("database.sslmode")).isEqualTo("verify-full");
    }

    @Test
    void toStringMasksSecretValues() {
        var kafka = PassthroughProperties.kafka(Settings.of(Map.of(
                "kafka.sasl.jaas.config", JAAS,
                "kafka.ssl.truststore.password", "trust-pass",
                "kafka.ssl.keystore.key", "-----BEGIN PRIVATE KEY-----",
                "kafka.security.protocol", "SASL_SSL")));

        String shown = kafka.toString();

        assertThat(shown).doesNotContain("s3cret-value");
        assertThat(shown).doesNotContain("trust-pass");
        assertThat(shown).doesNotContain("BEGIN PRIVATE KEY");
        assertThat(shown).contains("kafka.sasl.jaas.config=" + PassthroughProperties.MASK);
        assertThat(shown).contains("kafka.security.protocol=SASL_SSL");
    }

    @Test
    void secretKeyNames() {
        assertThat(PassthroughProperties.isSecretKey("sasl.jaas.config")).isTrue();
        assertThat(PassthroughProperties.isSecretKey("ssl.key.password")).isTrue();
        assertThat(PassthroughProperties.isSecretKey("database.sslpassword")).isTrue();
        assertThat(PassthroughProperties.isSecretKey("sasl.oauthbearer.client.credentials.client.secret")).isTrue();
        assertThat(PassthroughProperties.isSecretKey("ssl.truststore.location")).isFalse();
        assertThat(PassthroughProperties.isSecretKey("security.protocol")).isFalse();
    }

    @Test
    void withPrefixReturnsKeysSortedWithoutPrefix() {
        var settings = Settings.of(Map.of("kafka.b", "2", "kafka.a", "1", "kafka.", "empty name", "kafkaesque", "x"));

        assertThat(settings.withPrefix("kafka.")).containsExactly(Map.entry("a", "1"), Map.entry("b", "2"));
    }
}
