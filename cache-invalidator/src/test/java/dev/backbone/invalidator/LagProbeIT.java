package dev.backbone.invalidator;

import static org.awaitility.Awaitility.await;

import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedPostgresServer;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.Settings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

@ExtendWith(EmbeddedStackExtension.class)
class LagProbeIT {
    private static final Logger log = LoggerFactory.getLogger(LagProbeIT.class);

    @Test
    void probe(EmbeddedKafka kafka, EmbeddedPostgresServer postgres, @TempDir Path dir) throws Exception {
        var database = new TestDatabase(postgres.dataSource());
        database.createSchema(1);
        for (long id = 1; id <= 20; id++) {
            database.insertProduct(id, 1);
        }
        var registry = new SimpleMeterRegistry();
        var config = CacheInvalidatorConfig.from(Settings.of(Map.of("bootstrap.servers", kafka.bootstrapServers(),
                "database.port", Integer.toString(postgres.port()), "offset.storage.file", dir.resolve("o").toString(),
                "redis.uri", "redis://127.0.0.1:6379", "redis.key.prefix", "backbone-probe:" + System.nanoTime() + ":")));
        try (var invalidator = CacheInvalidator.start(config, registry); var recorder = new TopicRecorder(kafka.bootstrapServers())) {
            invalidator.awaitCapturing(Duration.ofSeconds(60));
            for (int i = 0; i < 200; i++) {
                long id = 1 + i % 20;
                long version = database.returningVersion("UPDATE public.products SET stock = " + i + " WHERE id = " + id + " RETURNING version");
                await().atMost(Duration.ofSeconds(30)).pollInSameThread().pollInterval(Duration.ofMillis(2)).until(() -> {
                    recorder.poll();
                    return recorder.invalidations("product:" + id).stream().anyMatch(inv -> inv.version() == version);
                });
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> registry.get(InvalidatorMetrics.PURGE_LAG).timer().count() >= 200);
            for (String name : new String[] {InvalidatorMetrics.CAPTURE_LAG, InvalidatorMetrics.PUBLISH_LAG, InvalidatorMetrics.PURGE_LAG}) {
                log.info("PROBE {} over {}: {}", name, registry.get(name).timer().count(), LagSummary.of(registry.get(name).timer()));
            }
        }
    }
}
