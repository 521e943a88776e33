package dev.backbone.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedPostgresServer;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.Invalidation;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(EmbeddedStackExtension.class)
class CacheInvalidatorRestartIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Test
    void changeWrittenWhileDownIsDeliveredAfterRestart(EmbeddedKafka kafka, EmbeddedPostgresServer postgres,
            @TempDir Path offsetDir) throws Exception {
        var database = new TestDatabase(postgres.dataSource());
        database.createSchema(1);
        database.insertProduct(1, 1);
        Path offsetFile = offsetDir.resolve("invalidator.offsets");
        var config = CacheInvalidatorConfig.forEmbedded(kafka.bootstrapServers(), postgres.port()).withOffsetStorageFile(offsetFile);

        try (var recorder = new TopicRecorder(kafka.bootstrapServers())) {
            try (var first = CacheInvalidator.start(config, new SimpleMeterRegistry())) {
                assertThat(first.awaitCapturing(TIMEOUT)).isTrue();
                long version = database.returningVersion("UPDATE public.products SET stock = 4 WHERE id = 1 RETURNING version");
                awaitVersion(recorder, "product:1", version);
            }
            assertThat(offsetFile).exists();
            assertThat(Files.size(offsetFile)).isPositive();

            long versionWhileDown = database.returningVersion("UPDATE public.products SET stock = 3 WHERE id = 1 RETURNING version");
            database.insertProduct(2, 1);

            try (var second = CacheInvalidator.start(config, new SimpleMeterRegistry())) {
                assertThat(second.awaitCapturing(TIMEOUT)).isTrue();

                Invalidation update = awaitVersion(recorder, "product:1", versionWhileDown);
                Invalidation insert = awaitFirst(recorder, () -> recorder.invalidations("product:2"));

                assertThat(update.operation()).isEqualTo("u");
                assertThat(insert.operation()).isEqualTo("c");
                assertThat(second.terminated()).isNotDone();
            }
        }
    }

    private static Invalidation awaitVersion(TopicRecorder recorder, String cacheKey, long version) {
        return awaitFirst(recorder, () -> recorder.invalidations(cacheKey).stream().filter(i -> i.version() == version).toList());
    }

    private static <T> T awaitFirst(TopicRecorder recorder, Supplier<List<T>> records) {
        return await().atMost(TIMEOUT)
                .pollInSameThread()
                .pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    recorder.poll();
                    return records.get();
                }, found -> !found.isEmpty())
                .get(0);
    }
}
