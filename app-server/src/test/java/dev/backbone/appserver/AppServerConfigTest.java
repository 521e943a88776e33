package dev.backbone.appserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.events.Settings;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AppServerConfigTest {

    private static final Map<String, String> REQUIRED = Map.of(
            "server.id", "app-1",
            "bootstrap.servers", "127.0.0.1:9092",
            "jdbc.url", "jdbc:postgresql://127.0.0.1:5432/backbone?user=postgres");

    @Test
    void defaultsApplyToOptionalKeys() {
        AppServerConfig config = AppServerConfig.from(Settings.of(REQUIRED));

        assertThat(config.serverId()).isEqualTo("app-1");
        assertThat(config.pool()).isEqualTo("shop");
        assertThat(config.dbPoolSize()).isEqualTo(8);
        assertThat(config.cacheMaxEntries()).isEqualTo(10_000);
        assertThat(config.cacheTtl()).isEqualTo(Duration.ofMillis(60_000));
        assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofMillis(1_000));
        assertThat(config.workerThreads()).isEqualTo(8);
        assertThat(config.pollMaxRecords()).isEqualTo(200);
        assertThat(config.requestGroupId()).isEqualTo("backbone-app-servers-shop");
        assertThat(config.invalidationGroupId()).isEqualTo("backbone-app-server-app-1");
    }

    @Test
    void everyKeyIsRead() {
        var values = new HashMap<>(REQUIRED);
        values.put("pool", "api");
        values.put("db.pool.size", "3");
        values.put("cache.max.entries", "0");
        values.put("cache.ttl.ms", "500");
        values.put("heartbeat.interval.ms", "250");
        values.put("worker.threads", "2");
        values.put("poll.max.records", "50");

        AppServerConfig config = AppServerConfig.from(Settings.of(values));

        assertThat(config).isEqualTo(new AppServerConfig("app-1", "api", "127.0.0.1:9092",
                "jdbc:postgresql://127.0.0.1:5432/backbone?user=postgres", 3, 0, Duration.ofMillis(500),
                Duration.ofMillis(250), 2, 50));
    }

    @Test
    void missingRequiredKeysAreReportedTogether() {
        assertThatThrownBy(() -> AppServerConfig.from(Settings.of(Map.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("server.id is required")
                .hasMessageContaining("bootstrap.servers is required")
                .hasMessageContaining("jdbc.url is required");
    }

    @Test
    void invalidValuesNameKeyAndValue() {
        var values = new HashMap<>(REQUIRED);
        values.put("server.id", "app 1");
        values.put("worker.threads", "0");
        values.put("jdbc.url", "jdbc:mysql://127.0.0.1/shop?password=secret");

        assertThatThrownBy(() -> AppServerConfig.from(Settings.of(values)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("server.id=app 1 is not accepted")
                .hasMessageContaining("worker.threads=0 is out of range")
                .hasMessageContaining("jdbc.url=jdbc:mysql://127.0.0.1/shop?... is not a PostgreSQL JDBC URL")
                .hasMessageNotContaining("secret");
    }
}
