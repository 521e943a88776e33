package dev.backbone.cdn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

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
}
