package dev.backbone.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.events.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

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
}
