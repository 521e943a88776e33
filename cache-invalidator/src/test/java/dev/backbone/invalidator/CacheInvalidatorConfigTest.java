package dev.backbone.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.events.Settings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CacheInvalidatorConfigTest {

    @Test
    void defaults() {
        var config = CacheInvalidatorConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092")));

        assertThat(config.databaseHostname()).isEqualTo("127.0.0.1");
        assertThat(config.databasePort()).isEqualTo(5432);
        assertThat(config.databaseName()).isEqualTo("backbone");
        assertThat(config.databaseUser()).isEqualTo("postgres");
        assertThat(config.databasePassword()).isEmpty();
        assertThat(config.slotName()).isEqualTo("backbone");
        assertThat(config.publicationName()).isEqualTo("backbone_publication");
        assertThat(config.tableIncludeList())
                .containsExactly("public.products", "public.categories", "public.static_assets", "public.accounts");
        assertThat(config.offsetStorageFile()).hasFileName("backbone.offsets");
        assertThat(config.pollIntervalMs()).isEqualTo(10);
        assertThat(config.captureEnabled()).isTrue();
        assertThat(config.tombstonesOnDelete()).isFalse();
        assertThat(config.purgeWindowMs()).isEqualTo(100);
        assertThat(config.purgeSoft()).isFalse();
        assertThat(config.redis().enabled()).isFalse();
        assertThat(config.redis().keyPrefix()).isEqualTo("backbone:cache:");
        assertThat(config.redis().tombstoneTtlMs()).isEqualTo(60_000);
        assertThat(config.metricsHost()).isEqualTo("127.0.0.1");
        assertThat(config.metricsPort()).isEqualTo(9405);
    }

    @Test
    void readsAndChecksMetricsKeys() {
        var config = CacheInvalidatorConfig.from(Settings.of(Map.of(
                "bootstrap.servers", "127.0.0.1:9092",
                "metrics.host", "0.0.0.0",
                "metrics.port", "-1")));

        assertThat(config.metricsHost()).isEqualTo("0.0.0.0");
        assertThat(config.metricsPort()).isEqualTo(-1);
        assertThat(config.withOffsetStorageFile(config.offsetStorageFile()).metricsPort()).isEqualTo(-1);
        assertThatThrownBy(() -> CacheInvalidatorConfig.from(Settings.of(Map.of(
                "bootstrap.servers", "127.0.0.1:9092",
                "metrics.port", "65536"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("metrics.port=65536 is out of range; accepted: an integer from -1 to 65535");
    }

    @Test
    void readsPurgeAndRedisKeys() {
        var config = CacheInvalidatorConfig.from(Settings.of(Map.of(
                "bootstrap.servers", "127.0.0.1:9092",
                "purge.window.ms", "250",
                "purge.mode", "SOFT",
                "redis.uri", "redis://:s3cret@127.0.0.1:6379",
                "redis.key.prefix", "test:cache:",
                "redis.tombstone.ttl.ms", "5000",
                "tombstones.on.delete", "true")));

        assertThat(config.purgeWindowMs()).isEqualTo(250);
        assertThat(config.purgeSoft()).isTrue();
        assertThat(config.redis().enabled()).isTrue();
        assertThat(config.redis().keyPrefix()).isEqualTo("test:cache:");
        assertThat(config.redis().tombstoneTtlMs()).isEqualTo(5_000);
        assertThat(config.tombstonesOnDelete()).isTrue();
        assertThat(config.toString()).doesNotContain("s3cret").contains("redis://127.0.0.1:6379");
    }

    @Test
    void rejectsInvalidPurgeAndRedisKeys() {
        assertThatThrownBy(() -> CacheInvalidatorConfig.from(Settings.of(Map.of(
                "bootstrap.servers", "127.0.0.1:9092",
                "purge.window.ms", "-1",
                "purge.mode", "gentle",
                "redis.uri", "http://:s3cret@127.0.0.1:6379"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("purge.window.ms=-1")
                .hasMessageContaining("purge.mode=gentle")
                .hasMessageContaining("redis.uri does not start with redis://")
                .hasMessageNotContaining("s3cret");
    }

    @Test
    void toStringMasksPassword() {
        var config = CacheInvalidatorConfig.from(Settings.of(Map.of(
                "bootstrap.servers", "127.0.0.1:9092", "database.password", "s3cret-value")));

        assertThat(config.databasePassword()).isEqualTo("s3cret-value");
        assertThat(config.toString()).doesNotContain("s3cret-value").contains("databasePassword=(set)");
    }

    @Test
    void readsEveryKey() {
        var config = CacheInvalidatorConfig.from(Settings.of(Map.ofEntries(
                Map.entry("bootstrap.servers", "127.0.0.1:9092"),
                Map.entry("database.hostname", "db.internal"),
                Map.entry("database.port", "6543"),
                Map.entry("database.dbname", "shop"),
                Map.entry("database.user", "cdc"),
                Map.entry("slot.name", "shop_slot"),
                Map.entry("publication.name", "shop_publication"),
                Map.entry("table.include.list", "public.products"),
                Map.entry("offset.storage.file", "/var/lib/invalidator/offsets"),
                Map.entry("poll.interval.ms", "50"),
                Map.entry("capture.enabled", "false"))));

        assertThat(config.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:6543/shop");
        assertThat(config.databaseUser()).isEqualTo("cdc");
        assertThat(config.slotName()).isEqualTo("shop_slot");
        assertThat(config.publicationName()).isEqualTo("shop_publication");
        assertThat(config.tableIncludeList()).isEqualTo(List.of("public.products"));
        assertThat(config.offsetStorageFile()).isEqualTo(Path.of("/var/lib/invalidator/offsets"));
        assertThat(config.pollIntervalMs()).isEqualTo(50);
        assertThat(config.captureEnabled()).isFalse();
    }

    @Test
    void reportsEveryProblemAtOnce() {
        assertThatThrownBy(() -> CacheInvalidatorConfig.from(Settings.of(Map.of(
                "database.port", "none",
                "slot.name", "Bad-Slot",
                "table.include.list", "products",
                "capture.enabled", "maybe"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bootstrap.servers is required")
                .hasMessageContaining("database.port=none")
                .hasMessageContaining("slot.name=Bad-Slot")
                .hasMessageContaining("table.include.list contains products")
                .hasMessageContaining("capture.enabled=maybe");
    }

    @Test
    void engineReadsTableNamesLiterally() {
        var config = CacheInvalidatorConfig.forEmbedded("127.0.0.1:9092", 5433);

        var properties = DebeziumCapture.engineProperties(config);

        assertThat(properties.getProperty("table.include.list"))
                .isEqualTo("public\\.products,public\\.categories,public\\.static_assets,public\\.accounts");
        assertThat(properties.getProperty("decimal.handling.mode")).isEqualTo("string");
        assertThat(properties.getProperty("tombstones.on.delete")).isEqualTo("false");
        assertThat(properties.getProperty("database.port")).isEqualTo("5433");
        assertThat(properties.getProperty("snapshot.mode")).isEqualTo("no_data");
        assertThat(properties.getProperty("plugin.name")).isEqualTo("pgoutput");
    }

    @Test
    void recordKeyFromDebeziumKey() {
        assertThat(DebeziumCapture.recordKey("public.products", "{\"id\":42}")).isEqualTo("public.products:42");
        assertThat(DebeziumCapture.recordKey("public.products", null)).isEqualTo("public.products");
        assertThat(DebeziumCapture.recordKey("public.products", "{\"schema\":{},\"payload\":{\"id\":42}}"))
                .isEqualTo("public.products:42");
    }

    @Test
    void kafkaKeysReachEveryClient() {
        var config = CacheInvalidatorConfig.from(Settings.of(Map.of("bootstrap.servers", "broker:9093",
                "kafka.security.protocol", "SSL",
                "kafka.ssl.truststore.location", "/etc/kafka/ca.p12",
                "kafka.ssl.truststore.password", "trust-s3cret")));

        for (Map<String, Object> client : List.of(CacheInvalidator.adminConfig(config),
                CacheInvalidator.producerConfig(config, "invalidations"), CacheInvalidator.consumerConfig(config),
                CacheInvalidator.replayReaderConfig(config))) {
            assertThat(client).containsEntry("security.protocol", "SSL");
            assertThat(client).containsEntry("ssl.truststore.location", "/etc/kafka/ca.p12");
            assertThat(client).containsEntry("bootstrap.servers", "broker:9093");
        }
        assertThat(config.toString()).doesNotContain("trust-s3cret").contains("kafka.security.protocol=SSL");
    }

    @Test
    void debeziumKeysReachEngineAndJdbcConnection() {
        var config = CacheInvalidatorConfig.from(Settings.of(Map.of("bootstrap.servers", "broker:9093",
                "database.password", "db-s3cret",
                "debezium.database.sslmode", "verify-full",
                "debezium.database.sslrootcert", "/etc/backbone/pg-ca.pem",
                "debezium.database.sslpassword", "key-s3cret",
                "debezium.snapshot.mode", "never")));

        var engine = DebeziumCapture.engineProperties(config);
        var jdbc = DebeziumCapture.connectionProperties(config);

        assertThat(engine.getProperty("database.sslmode")).isEqualTo("verify-full");
        assertThat(engine.getProperty("database.sslrootcert")).isEqualTo("/etc/backbone/pg-ca.pem");
        assertThat(engine.getProperty("snapshot.mode")).isEqualTo("never");
        assertThat(engine.getProperty("plugin.name")).isEqualTo("pgoutput");
        assertThat(jdbc.getProperty("sslmode")).isEqualTo("verify-full");
        assertThat(jdbc.getProperty("sslrootcert")).isEqualTo("/etc/backbone/pg-ca.pem");
        assertThat(jdbc.getProperty("sslpassword")).isEqualTo("key-s3cret");
        assertThat(jdbc.getProperty("snapshot.mode")).isNull();
        assertThat(config.toString()).doesNotContain("s3cret").contains("debezium.database.sslmode=verify-full");
    }

    @Test
    void debeziumKeysBackboneSetsRejected() {
        assertThatThrownBy(() -> CacheInvalidatorConfig.from(Settings.of(Map.of("bootstrap.servers", "broker:9093",
                "debezium.database.hostname", "db.internal",
                "debezium.plugin.name", "decoderbufs"))))
                .hasMessageContaining("debezium.database.hostname cannot be set, because set database.hostname instead")
                .hasMessageContaining("debezium.plugin.name cannot be set, because the invalidator decodes with pgoutput");
    }
}
