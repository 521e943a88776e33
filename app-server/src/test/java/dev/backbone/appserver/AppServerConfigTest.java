package dev.backbone.appserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.events.PassthroughProperties;
import dev.backbone.events.Settings;
import dev.backbone.storage.RedisTierConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AppServerConfigTest {

    private static final String SECRET = "0123456789abcdef0123456789abcdef";
    private static final Map<String, String> REQUIRED = Map.of(
            "server.id", "app-1",
            "bootstrap.servers", "127.0.0.1:9092",
            "jdbc.url", "jdbc:postgresql://127.0.0.1:5432/backbone?user=postgres",
            "auth.secret", SECRET);

    @Test
    void defaultsApplyToOptionalKeys() {
        AppServerConfig config = AppServerConfig.from(Settings.of(REQUIRED));

        assertThat(config.serverId()).isEqualTo("app-1");
        assertThat(config.pool()).isEqualTo("shop");
        assertThat(config.dbPoolSize()).isEqualTo(8);
        assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofMillis(1_000));
        assertThat(config.workerThreads()).isEqualTo(8);
        assertThat(config.pollMaxRecords()).isEqualTo(200);
        assertThat(config.requestGroupId()).isEqualTo("backbone-app-servers-shop");
        assertThat(config.invalidationGroupId()).isEqualTo("backbone-app-server-app-1");
        assertThat(config.cache()).isEqualTo(new CacheConfig(10_000, Duration.ofMillis(60_000), Duration.ofMillis(5_000),
                List.of(), 10_000, null));
        assertThat(config.auth()).isEqualTo(new AuthConfig(SECRET, Duration.ofSeconds(30)));
        assertThat(config.cdn()).isEqualTo(new CdnConfig("", Map.of(), "", Duration.ofSeconds(60), Duration.ofSeconds(300),
                Duration.ofSeconds(30), Duration.ofSeconds(600)));
        assertThat(config.metricsHost()).isEqualTo("127.0.0.1");
        assertThat(config.metricsPort()).isEqualTo(9404);
    }

    @Test
    void everyKeyIsRead() {
        var values = new HashMap<>(REQUIRED);
        values.put("pool", "api");
        values.put("db.pool.size", "3");
        values.put("heartbeat.interval.ms", "250");
        values.put("worker.threads", "2");
        values.put("poll.max.records", "50");
        values.put("cache.max.entries", "0");
        values.put("cache.ttl.ms", "500");
        values.put("cache.negative.ttl.ms", "0");
        values.put("cache.pinned.keys", "product:42, account:7,asset:/css/site.css");
        values.put("cache.pinned.max.entries", "5");
        values.put("redis.uri", "redis://127.0.0.1:6379");
        values.put("redis.key.prefix", "test:");
        values.put("redis.ttl.ms", "1000");
        values.put("redis.tombstone.ttl.ms", "2000");
        values.put("redis.timeout.ms", "300");
        values.put("redis.lease.margin.ms", "0");
        values.put("auth.clock.skew.s", "5");
        values.put("edge.token", "edge-token-of-16+");
        values.put("cdn.edges", "us-east=http://127.0.0.1:8090/, eu-west=http://127.0.0.1:8091");
        values.put("cdn.default.edge", "https://cdn.example.com/");
        values.put("cdn.client.max.age.s", "10");
        values.put("cdn.edge.max.age.s", "20");
        values.put("cdn.stale.while.revalidate.s", "30");
        values.put("cdn.stale.if.error.s", "40");
        values.put("metrics.host", "0.0.0.0");
        values.put("metrics.port", "0");

        AppServerConfig config = AppServerConfig.from(Settings.of(values));

        var redis = new RedisTierConfig("redis://127.0.0.1:6379", "test:", Duration.ofMillis(1000), Duration.ZERO,
                Duration.ofMillis(2000), Duration.ofMillis(300), Duration.ZERO);
        assertThat(config).isEqualTo(new AppServerConfig("app-1", "api", "127.0.0.1:9092",
                "jdbc:postgresql://127.0.0.1:5432/backbone?user=postgres", 3, Duration.ofMillis(250), 2, 50,
                new CacheConfig(0, Duration.ofMillis(500), Duration.ZERO, List.of("product:42", "account:7", "asset:/css/site.css"),
                        5, redis),
                new AuthConfig(SECRET, Duration.ofSeconds(5)),
                new CdnConfig("edge-token-of-16+", Map.of("us-east", "http://127.0.0.1:8090", "eu-west", "http://127.0.0.1:8091"),
                        "https://cdn.example.com", Duration.ofSeconds(10), Duration.ofSeconds(20), Duration.ofSeconds(30),
                        Duration.ofSeconds(40)),
                "0.0.0.0", 0, PassthroughProperties.kafka(Settings.of(Map.of()))));
        assertThat(config.cdn().edgeFor("eu-west")).contains("http://127.0.0.1:8091");
        assertThat(config.cdn().edgeFor("ap-south")).contains("https://cdn.example.com");
        assertThat(config.cdn().publicCacheControl())
                .isEqualTo("public, max-age=10, s-maxage=20, stale-while-revalidate=30, stale-if-error=40");
    }

    @Test
    void missingRequiredKeysAreReportedTogether() {
        assertThatThrownBy(() -> AppServerConfig.from(Settings.of(Map.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("server.id is required")
                .hasMessageContaining("bootstrap.servers is required")
                .hasMessageContaining("jdbc.url is required")
                .hasMessageContaining("auth.secret is required");
    }

    @Test
    void invalidValuesNameKeyAndValue() {
        var values = new HashMap<>(REQUIRED);
        values.put("server.id", "app 1");
        values.put("worker.threads", "0");
        values.put("jdbc.url", "jdbc:mysql://127.0.0.1/shop?password=secret");
        values.put("metrics.port", "-2");

        assertThatThrownBy(() -> AppServerConfig.from(Settings.of(values)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("server.id=app 1 is not accepted")
                .hasMessageContaining("worker.threads=0 is out of range")
                .hasMessageContaining("metrics.port=-2 is out of range; accepted: an integer from -1 to 65535")
                .hasMessageContaining("jdbc.url=jdbc:mysql://127.0.0.1/shop?... is not a PostgreSQL JDBC URL")
                .hasMessageNotContaining("secret");
    }

    @Test
    void shortSecretIsRejectedWithoutShowingIt() {
        var values = new HashMap<>(REQUIRED);
        values.put("auth.secret", "too-short-secret");

        assertThatThrownBy(() -> AppServerConfig.from(Settings.of(values)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("auth.secret is 16 bytes long; accepted: at least 32 bytes")
                .hasMessageNotContaining("too-short-secret");
    }

    @Test
    void invalidCacheAndCdnValuesAreReported() {
        var values = new HashMap<>(REQUIRED);
        values.put("cache.pinned.keys", "product:x,asset:/../etc/passwd,order:1");
        values.put("redis.uri", "http://127.0.0.1:6379");
        values.put("edge.token", "short");
        values.put("cdn.edges", "us-east=ftp://edge,eu-west,=http://127.0.0.1:8091/,us-east=http://127.0.0.1:8090/");
        values.put("cdn.default.edge", "not a url");

        assertThatThrownBy(() -> AppServerConfig.from(Settings.of(values)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cache.pinned.keys contains product:x")
                .hasMessageContaining("cache.pinned.keys contains asset:/../etc/passwd")
                .hasMessageContaining("cache.pinned.keys contains order:1")
                .hasMessageContaining("redis.uri=http://127.0.0.1:6379 is not a Redis URI")
                .hasMessageContaining("edge.token is 5 characters long")
                .hasMessageContaining("cdn.edges contains us-east=ftp://edge")
                .hasMessageContaining("cdn.edges contains eu-west,")
                .hasMessageContaining("cdn.edges contains =http://127.0.0.1:8091/")
                .hasMessageContaining("cdn.default.edge=not a url is not an edge URL")
                .hasMessageNotContaining("short\n");
    }

    @Test
    void toStringLeavesSecretsOut() {
        var values = new HashMap<>(REQUIRED);
        values.put("edge.token", "edge-token-of-16+");
        values.put("redis.uri", "redis://user:redis-password@127.0.0.1:6379");

        String text = AppServerConfig.from(Settings.of(values)).toString();

        assertThat(text).doesNotContain(SECRET).doesNotContain("edge-token-of-16+").doesNotContain("redis-password")
                .doesNotContain("user=postgres").contains("secret=(32 bytes)").contains("edgeToken=(set)");
    }

    @Test
    void kafkaKeysReachEveryClient() {
        var values = new HashMap<String, String>();
        values.put("server.id", "app-1");
        values.put("bootstrap.servers", "broker:9093");
        values.put("jdbc.url", "jdbc:postgresql://db:5432/backbone?sslmode=verify-full&sslrootcert=/etc/pg-ca.pem");
        values.put("auth.secret", SECRET);
        values.put("kafka.security.protocol", "SASL_SSL");
        values.put("kafka.sasl.mechanism", "PLAIN");
        values.put("kafka.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required "
                + "username=\"app\" password=\"app-s3cret\";");
        AppServerConfig config = AppServerConfig.from(Settings.of(values));

        for (Map<String, Object> client : List.of(AppServer.producerConfig(config), AppServer.requestConsumerConfig(config),
                AppServer.invalidationConsumerConfig(config))) {
            assertThat(client).containsEntry("security.protocol", "SASL_SSL");
            assertThat(client).containsEntry("sasl.mechanism", "PLAIN");
            assertThat(client).containsKey("sasl.jaas.config");
        }
        assertThat(config.jdbcUrl()).contains("sslmode=verify-full");
        assertThat(config.toString()).doesNotContain("app-s3cret").doesNotContain("sslrootcert");
    }
}
