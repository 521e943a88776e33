package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.events.Settings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoutingConfigTest {

    @TempDir
    Path stateDir;

    @Test
    void defaultsApplyWhenOnlyBootstrapIsSet() {
        var config = RoutingConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "state.dir", stateDir.toString())));

        assertThat(config.applicationId()).isEqualTo("backbone-routing");
        assertThat(config.lbAddresses()).containsExactly("lb-1", "lb-2");
        assertThat(config.lbPool()).isEqualTo("shop");
        assertThat(config.lbHeartbeatIntervalMs()).isEqualTo(1_000);
        assertThat(config.heartbeatTimeoutMs()).isEqualTo(3_000);
        assertThat(config.dnsNegativeTtlMs()).isEqualTo(5_000);
        assertThat(config.dnsCacheMaxEntriesPerClient()).isEqualTo(100);
        assertThat(config.hashKey()).isEqualTo(RoutingConfig.HashKey.CLIENT);
        assertThat(config.maglevTableSize()).isEqualTo(65_537);
        assertThat(config.commitIntervalMs()).isEqualTo(1000);
        var props = config.streamsProperties();
        assertThat(props.get(StreamsConfig.APPLICATION_ID_CONFIG)).isEqualTo("backbone-routing");
        assertThat(props.get(StreamsConfig.STATE_DIR_CONFIG)).isEqualTo(stateDir.toString());
        assertThat(props.get(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG))
                .isEqualTo(DeadLetterExceptionHandler.class);
    }

    @Test
    void missingStateDirGetsTemporaryDirectory() {
        var config = RoutingConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092")));

        assertThat(config.stateDir()).isDirectory();
        config.stateDir().toFile().delete();
    }

    @Test
    void everyInvalidKeyIsReported() {
        var settings = Settings.of(Map.of(
                "maglev.table.size", "65536",
                "lb.hash.key", "cookie",
                "lb.addresses", " , ",
                "lb.heartbeat.interval.ms", "5000",
                "heartbeat.timeout.ms", "3000"));

        assertThatThrownBy(() -> RoutingConfig.from(settings))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bootstrap.servers is required")
                .hasMessageContaining("maglev.table.size=65536 is not a prime")
                .hasMessageContaining("lb.hash.key=cookie")
                .hasMessageContaining("lb.addresses is empty")
                .hasMessageContaining("heartbeat.timeout.ms=3000 is not above lb.heartbeat.interval.ms=5000");
    }

    @Test
    void pathHashKeyAndAddressesAreParsed() {
        var config = RoutingConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "state.dir", stateDir.toString(), "lb.hash.key", "PATH", "lb.addresses", "lb-a, lb-b ,lb-c")));

        assertThat(config.hashKey()).isEqualTo(RoutingConfig.HashKey.PATH);
        assertThat(config.lbAddresses()).isEqualTo(List.of("lb-a", "lb-b", "lb-c"));
    }

    @Test
    void restDefaults() {
        var config = RoutingConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "state.dir", stateDir.toString())));

        assertThat(config.restHost()).isEqualTo("127.0.0.1");
        assertThat(config.restPort()).isEqualTo(8081);
        assertThat(config.applicationServer()).isNull();
        assertThat(config.applicationServerOr(40_123)).isEqualTo("127.0.0.1:40123");
        assertThat(config.adminToken()).isNull();
    }

    @Test
    void adminTokenHiddenAndMatched() {
        String token = "0123456789abcdef-secret";
        var config = RoutingConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "state.dir", stateDir.toString(), "admin.token", token, "application.server", "routing-1.internal:9000")));

        assertThat(config.adminToken().matches(token)).isTrue();
        assertThat(config.adminToken().matches(token + "x")).isFalse();
        assertThat(config.adminToken().matches(null)).isFalse();
        assertThat(config.toString()).doesNotContain(token);
        assertThat(config.applicationServerOr(1)).isEqualTo("routing-1.internal:9000");
    }

    @Test
    void invalidRestKeysReported() {
        var settings = Settings.of(Map.of(
                "bootstrap.servers", "127.0.0.1:9092",
                "admin.token", "short-secret",
                "rest.port", "70000",
                "application.server", "no-port"));

        assertThatThrownBy(() -> RoutingConfig.from(settings))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("admin.token has 12 characters; set at least 16")
                .hasMessageNotContaining("short-secret")
                .hasMessageContaining("rest.port=70000 is out of range")
                .hasMessageContaining("application.server=no-port is not accepted");
    }

    @Test
    void wildcardRestHostNeedsApplicationServer() {
        var settings = Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092", "rest.host", "0.0.0.0"));

        assertThatThrownBy(() -> RoutingConfig.from(settings))
                .hasMessageContaining("application.server is not set and rest.host=0.0.0.0");
    }

    @Test
    void loadBalancerDefaults() {
        var config = RoutingConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "state.dir", stateDir.toString())));

        assertThat(config.heartbeatRiseCount()).isEqualTo(2);
        assertThat(config.heartbeatCheckIntervalMs()).isEqualTo(500);
        assertThat(config.heartbeatMaxAgeMs()).isEqualTo(30_000);
        assertThat(config.lbRole()).isEqualTo(RoutingConfig.LbRole.ACTIVE);
        assertThat(config.lbStandbyTakeoverMs()).isEqualTo(2_000);
        var shop = config.poolSettings("shop");
        assertThat(shop.hashKey().configValue()).isEqualTo("client");
        assertThat(shop.boundedLoads()).isFalse();
        assertThat(shop.loadWindowMs()).isEqualTo(60_000);
        assertThat(config.poolSettings("unlisted")).isEqualTo(config.defaultPoolSettings());
    }

    @Test
    void poolSettingsOverrideDefaults() {
        var config = RoutingConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "state.dir", stateDir.toString(),
                "lb.pools", "shop,search",
                "lb.bounded.load.factor", "1.5",
                "pool.shop.hash.key", "Header:X-Session-Id",
                "pool.search.hash.key", "path",
                "pool.search.bounded.load.factor", "1.25",
                "pool.search.load.window.ms", "10000")));

        var shop = config.poolSettings("shop");
        assertThat(shop.hashKey().kind()).isEqualTo(RoutingConfig.HashKey.HEADER);
        assertThat(shop.hashKey().header()).isEqualTo("x-session-id");
        assertThat(shop.boundedLoadFactor()).as("from lb.bounded.load.factor").isEqualTo(1.5);
        var search = config.poolSettings("search");
        assertThat(search.hashKey().kind()).isEqualTo(RoutingConfig.HashKey.PATH);
        assertThat(search.boundedLoadFactor()).isEqualTo(1.25);
        assertThat(search.loadWindowMs()).isEqualTo(10_000);
    }

    @Test
    void invalidLoadBalancerKeysReported() {
        var settings = Settings.of(Map.of(
                "bootstrap.servers", "127.0.0.1:9092",
                "lb.pools", "shop",
                "pool.shop.hash.key", "header:",
                "pool.shop.bounded.load.factor", "0.8",
                "pool.shop.load.window.ms", "900000",
                "heartbeat.max.age.ms", "1000",
                "lb.role", "standby",
                "lb.standby.takeover.ms", "3000"));

        assertThatThrownBy(() -> RoutingConfig.from(settings))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pool.shop.hash.key=header: is not accepted")
                .hasMessageContaining("pool.shop.bounded.load.factor=0.8 is not accepted")
                .hasMessageContaining("pool.shop.load.window.ms=900000 is out of range")
                .hasMessageContaining("heartbeat.max.age.ms=1000 is below heartbeat.timeout.ms=3000")
                .hasMessageContaining("lb.standby.takeover.ms=3000 is not below heartbeat.timeout.ms=3000");
    }

    @Test
    void traceRetentionDefaultAndBounds() {
        var defaults = RoutingConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "state.dir", stateDir.toString())));
        var set = RoutingConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "state.dir", stateDir.toString(), "trace.retention.ms", "30000")));

        assertThat(defaults.traceRetentionMs()).isEqualTo(600_000);
        assertThat(set.traceRetentionMs()).isEqualTo(30_000);
        assertThatThrownBy(() -> RoutingConfig.from(Settings.of(Map.of("bootstrap.servers", "127.0.0.1:9092",
                "state.dir", stateDir.toString(), "trace.retention.ms", "999"))))
                .hasMessageContaining("trace.retention.ms");
    }

    @Test
    void kafkaKeysReachStreamsAdminAndSideProducer() {
        var config = RoutingConfig.from(Settings.of(Map.of("bootstrap.servers", "broker:9093",
                "state.dir", stateDir.toString(),
                "kafka.security.protocol", "SASL_SSL",
                "kafka.sasl.mechanism", "SCRAM-SHA-256",
                "kafka.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                        + "username=\"routing\" password=\"r0uting-pw\";")));

        var streams = config.streamsProperties();
        assertThat(streams.get("security.protocol")).isEqualTo("SASL_SSL");
        assertThat(streams.get("sasl.mechanism")).isEqualTo("SCRAM-SHA-256");
        assertThat((String) streams.get("sasl.jaas.config")).contains("r0uting-pw");
        for (Map<String, Object> client : List.of(RoutingService.adminConfig(config), RoutingService.sideProducerConfig(config))) {
            assertThat(client).containsEntry("security.protocol", "SASL_SSL");
            assertThat(client).containsEntry("sasl.mechanism", "SCRAM-SHA-256");
            assertThat(client).containsEntry("bootstrap.servers", "broker:9093");
        }
        assertThat(config.toString()).doesNotContain("r0uting-pw");
    }

    @Test
    void kafkaApplicationIdRejected() {
        assertThatThrownBy(() -> RoutingConfig.from(Settings.of(Map.of("bootstrap.servers", "broker:9093",
                "state.dir", stateDir.toString(), "kafka.application.id", "other"))))
                .hasMessageContaining("kafka.application.id cannot be set, because set application.id of routing-streams instead");
    }
}
