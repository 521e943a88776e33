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
        assertThat(config.tableIncludeList()).containsExactly("public.products", "public.categories");
        assertThat(config.offsetStorageFile()).hasFileName("backbone.offsets");
        assertThat(config.pollIntervalMs()).isEqualTo(10);
        assertThat(config.captureEnabled()).isTrue();
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

        assertThat(properties.getProperty("table.include.list")).isEqualTo("public\\.products,public\\.categories");
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
}
