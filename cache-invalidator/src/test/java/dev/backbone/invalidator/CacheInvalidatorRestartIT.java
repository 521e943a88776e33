package dev.backbone.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedPostgresServer;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.Invalidation;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(EmbeddedStackExtension.class)
class CacheInvalidatorRestartIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Test
    void restartResumesAndCountsReplays(EmbeddedKafka kafka, EmbeddedPostgresServer postgres,
            @TempDir Path offsetDir) throws Exception {
        var database = new TestDatabase(postgres.dataSource());
        database.createSchema(1);
        database.insertProduct(1, 1);
        Path offsetFile = offsetDir.resolve("invalidator.offsets");
        var config = CacheInvalidatorConfig.forEmbedded(kafka.bootstrapServers(), postgres.port()).withOffsetStorageFile(offsetFile);

        try (var recorder = new TopicRecorder(kafka.bootstrapServers())) {
            long version;
            try (var first = CacheInvalidator.start(config, new SimpleMeterRegistry())) {
                assertThat(first.awaitCapturing(TIMEOUT)).isTrue();
                version = database.returningVersion("UPDATE public.products SET stock = 4 WHERE id = 1 RETURNING version");
                awaitVersion(recorder, "product:1", version);
            }
            assertThat(offsetFile).exists();
            assertThat(Files.size(offsetFile)).isPositive();

            long versionWhileDown = database.returningVersion("UPDATE public.products SET stock = 3 WHERE id = 1 RETURNING version");
            database.insertProduct(2, 1);
            // Debezium replays the changes after its last stored offset when it crashed; a copy of a processed event is that.
            TopicRecorder.DbChange processed = recorder.dbChanges().stream()
                    .filter(change -> "public.products:1".equals(change.key()) && change.value().contains("\"version\":" + version))
                    .findFirst().orElseThrow();
            produceChange(kafka.bootstrapServers(), processed);

            var registry = new SimpleMeterRegistry();
            try (var second = CacheInvalidator.start(config, registry)) {
                assertThat(second.awaitCapturing(TIMEOUT)).isTrue();

                Invalidation update = awaitVersion(recorder, "product:1", versionWhileDown);
                Invalidation insert = awaitFirst(recorder, () -> recorder.invalidations("product:2"));
                awaitFirst(recorder, () -> recorder.invalidations("product:1").stream().filter(i -> i.version() == version)
                        .skip(1).toList());

                assertThat(update.operation()).isEqualTo("u");
                assertThat(insert.operation()).isEqualTo("c");
                assertThat(registry.get(InvalidatorMetrics.DUPLICATES).counter().count()).isGreaterThanOrEqualTo(1);
                assertThat(second.terminated()).isNotDone();
            }
        }
    }

    private static void produceChange(String bootstrapServers, TopicRecorder.DbChange change) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(Topics.DB_CHANGES.name(), change.key(), change.value())).get();
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
