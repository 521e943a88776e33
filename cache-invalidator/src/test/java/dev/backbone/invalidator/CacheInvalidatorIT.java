package dev.backbone.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedPostgresServer;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.DeadLetter;
import dev.backbone.events.Invalidation;
import dev.backbone.events.Json;
import dev.backbone.events.PurgeRequest;
import dev.backbone.events.Settings;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.Timer;
import dev.backbone.events.MetricsEndpoint;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

@ExtendWith(EmbeddedStackExtension.class)
class CacheInvalidatorIT {

    private static final Logger log = LoggerFactory.getLogger(CacheInvalidatorIT.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path offsetDir;

    private static TestDatabase database;
    private static PrometheusMeterRegistry registry;
    private static CacheInvalidator invalidator;
    private static TopicRecorder recorder;
    private static String bootstrapServers;
    /** The Redis L2 tier, or {@code null} when no Redis runs at 127.0.0.1:6379. */
    private static TestRedis redis;

    @BeforeAll
    static void startInvalidator(EmbeddedKafka kafka, EmbeddedPostgresServer postgres) throws Exception {
        bootstrapServers = kafka.bootstrapServers();
        database = new TestDatabase(postgres.dataSource());
        database.createSchema(1, 2, 10, 11);
        for (long id = 1; id <= 5; id++) {
            database.insertProduct(id, 1);
        }
        database.insertProduct(6, 10);

        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        redis = TestRedis.connectIfAvailable();
        Map<String, String> settings = new HashMap<>(Map.of(
                "bootstrap.servers", bootstrapServers,
                "database.port", Integer.toString(postgres.port()),
                "offset.storage.file", offsetDir.resolve("invalidator.offsets").toString()));
        if (redis != null) {
            settings.put("redis.uri", TestRedis.URI);
            settings.put("redis.key.prefix", redis.keyPrefix());
        } else {
            log.warn(TestRedis.SKIP_MESSAGE + " with a Redis tier; the other tests run without one");
        }
        var config = CacheInvalidatorConfig.from(Settings.of(settings));
        invalidator = CacheInvalidator.start(config, registry);
        assertThat(invalidator.awaitCapturing(TIMEOUT)).isTrue();
        recorder = new TopicRecorder(bootstrapServers);
    }

    @AfterAll
    static void stopInvalidator() {
        for (String name : List.of(InvalidatorMetrics.CAPTURE_LAG, InvalidatorMetrics.PUBLISH_LAG, InvalidatorMetrics.PURGE_LAG)) {
            Timer lag = registry.find(name).timer();
            if (lag != null) {
                log.info("{} over {} changes: {}", name, lag.count(), LagSummary.of(lag));
            }
        }
        if (recorder != null) {
            recorder.close();
        }
        if (invalidator != null) {
            invalidator.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void kafkaClientMetersAreBoundPerClient() {
        await().atMost(TIMEOUT).untilAsserted(() -> assertThat(registry.getMeters().stream()
                .filter(meter -> meter.getId().getName().startsWith("kafka."))
                .map(meter -> meter.getId().getTag("client.id")))
                .contains("backbone-cache-invalidator-invalidations", "backbone-cache-invalidator-capture",
                        "backbone-cache-invalidator-changes"));
    }

    @Test
    void metricsEndpointServesInvalidatorMeters() throws Exception {
        var config = CacheInvalidatorConfig.from(Settings.of(Map.of(
                "bootstrap.servers", bootstrapServers,
                "metrics.port", "0")));

        try (MetricsEndpoint endpoint = Main.startMetrics(config, registry)) {
            HttpResponse<String> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(endpoint.uri()).timeout(TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).contains(MetricsEndpoint.CONTENT_TYPE);
            assertThat(response.body()).contains("backbone_invalidator_");
            assertThat(response.body()).contains("kafka_producer_");
            assertThat(response.body()).contains("kafka_consumer_");
        }
    }

    @Test
    void updateInvalidatesProductWithNewVersion() throws Exception {
        long beforeCommitMs = System.currentTimeMillis();
        long version = database.returningVersion("UPDATE public.products SET price_cents = 1299 WHERE id = 1 RETURNING version");

        Invalidation invalidation = awaitFirst(() -> recorder.invalidations("product:1"));

        assertThat(version).isEqualTo(2);
        assertThat(invalidation.version()).isEqualTo(version);
        assertThat(invalidation.operation()).isEqualTo("u");
        assertThat(invalidation.commitAtMs()).isBetween(beforeCommitMs - 1_000, System.currentTimeMillis());
        assertThat(invalidation.capturedAtMs()).isGreaterThanOrEqualTo(invalidation.commitAtMs());

        PurgeRequest purge = awaitFirst(() -> recorder.purges("product:1"));
        assertThat(purge.soft()).isFalse();
        assertThat(purge.commitAtMs()).isEqualTo(invalidation.commitAtMs());

        assertThat(recorder.dbChanges()).extracting(TopicRecorder.DbChange::key).contains("public.products:1");
        assertThat(registry.get(InvalidatorMetrics.CHANGES_CAPTURED).tag("table", "public.products").counter().count())
                .isGreaterThanOrEqualTo(1);
        assertThat(registry.get(InvalidatorMetrics.CAPTURE_LAG).timer().count()).isGreaterThanOrEqualTo(1);
        assertThat(registry.get(InvalidatorMetrics.INVALIDATIONS_PUBLISHED).counter().count()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void insertInvalidatesProductAndCategory() throws Exception {
        database.insertProduct(100, 2);

        Invalidation product = awaitFirst(() -> recorder.invalidations("product:100"));
        Invalidation category = awaitFirst(() -> recorder.invalidations("category:2").stream()
                .filter(i -> i.operation().equals("c")).toList());

        assertThat(product.operation()).isEqualTo("c");
        assertThat(product.version()).isEqualTo(1);
        assertThat(category.version()).isEqualTo(-1);
        assertThat(category.commitAtMs()).isEqualTo(product.commitAtMs());
    }

    @Test
    void deleteInvalidatesProductAndCategory() throws Exception {
        database.execute("DELETE FROM public.products WHERE id = 2");

        Invalidation product = awaitFirst(() -> recorder.invalidations("product:2"));
        Invalidation category = awaitFirst(() -> recorder.invalidations("category:1").stream()
                .filter(i -> i.operation().equals("d")).toList());

        assertThat(product.operation()).isEqualTo("d");
        assertThat(product.version()).isEqualTo(-1);
        assertThat(category.commitAtMs()).isEqualTo(product.commitAtMs());
        assertThat(awaitFirst(() -> recorder.purges("product:2")).soft()).isFalse();
    }

    @Test
    void moveInvalidatesBothCategories() throws Exception {
        long version = database.returningVersion("UPDATE public.products SET category_id = 11 WHERE id = 6 RETURNING version");

        Invalidation product = awaitFirst(() -> recorder.invalidations("product:6"));
        Invalidation oldCategory = awaitFirst(() -> recorder.invalidations("category:10"));
        Invalidation newCategory = awaitFirst(() -> recorder.invalidations("category:11"));

        assertThat(product.version()).isEqualTo(version);
        assertThat(oldCategory.operation()).isEqualTo("u");
        assertThat(newCategory.operation()).isEqualTo("u");
        assertThat(oldCategory.commitAtMs()).isEqualTo(product.commitAtMs());
        assertThat(newCategory.commitAtMs()).isEqualTo(product.commitAtMs());
        awaitFirst(() -> recorder.purges("category:10"));
        awaitFirst(() -> recorder.purges("category:11"));
    }

    @Test
    void malformedRecordGoesToDeadLetters() throws Exception {
        String badKey = "bad-" + UUID.randomUUID();
        produceChange(badKey, "{\"op\": \"u\", \"after\": ");
        long version = database.returningVersion("UPDATE public.products SET stock = 0 WHERE id = 4 RETURNING version");

        DeadLetter letter = awaitFirst(() -> recorder.deadLetters().stream()
                .filter(d -> badKey.equals(decode(d.keyBase64()))).toList());
        Invalidation invalidation = awaitFirst(() -> recorder.invalidations("product:4"));

        assertThat(letter.topic()).isEqualTo(Topics.DB_CHANGES.name());
        assertThat(letter.consumer()).isEqualTo(ChangeEventProcessor.GROUP_ID);
        assertThat(letter.error()).contains("not valid JSON");
        assertThat(decode(letter.valueBase64())).isEqualTo("{\"op\": \"u\", \"after\": ");
        assertThat(invalidation.version()).isEqualTo(version);
        assertThat(registry.get(InvalidatorMetrics.DEAD_LETTERS).counter().count()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void schemaWrappedEventIsProcessed() throws Exception {
        // Commit times near now keep the lag meters meaningful for the summary logged after the tests.
        long commitAtMs = System.currentTimeMillis() - 20;
        String connectKey = """
                {"schema": {"type": "struct", "fields": [{"type": "int64", "optional": false, "field": "id"}]},
                 "payload": {"id": 999}}""";
        String connectValue = """
                {"schema": {"type": "struct", "name": "dbserver.public.categories.Envelope", "fields": []},
                 "payload": {"before": {"id": 999, "name": "Old"}, "after": {"id": 999, "name": "New"}, "op": "u",
                             "ts_ms": %d,
                             "source": {"connector": "postgresql", "ts_ms": %d, "schema": "public",
                                        "table": "categories"}}}""".formatted(commitAtMs + 12, commitAtMs);
        produceChange(connectKey, connectValue);

        Invalidation invalidation = awaitFirst(() -> recorder.invalidations("category:999"));

        assertThat(invalidation.operation()).isEqualTo("u");
        assertThat(invalidation.commitAtMs()).isEqualTo(commitAtMs);
        assertThat(invalidation.capturedAtMs()).isEqualTo(commitAtMs + 12);
    }

    @Test
    void truncateEventIsIgnored() throws Exception {
        String key = "public.categories:998";
        double ignoredBefore = registry.get(InvalidatorMetrics.CHANGES_CONSUMED).tag("outcome", "ignored").counter().count();
        long commitAtMs = System.currentTimeMillis() - 20;
        String truncate = """
                {"before": null, "after": null, "op": "t", "ts_ms": %d,
                 "source": {"ts_ms": %d, "schema": "public", "table": "categories"}}""".formatted(commitAtMs + 12, commitAtMs);
        String update = """
                {"before": {"id": 998, "name": "Old"}, "after": {"id": 998, "name": "New"}, "op": "u", "ts_ms": %d,
                 "source": {"ts_ms": %d, "schema": "public", "table": "categories"}}""".formatted(commitAtMs + 13, commitAtMs + 1);
        // Same key, same partition: the update is consumed after the truncate.
        produceChange(key, truncate);
        produceChange(key, update);

        Invalidation invalidation = awaitFirst(() -> recorder.invalidations("category:998"));

        assertThat(invalidation.commitAtMs()).isEqualTo(commitAtMs + 1);
        assertThat(registry.get(InvalidatorMetrics.CHANGES_CONSUMED).tag("outcome", "ignored").counter().count())
                .isGreaterThan(ignoredBefore);
    }

    @Test
    void tombstoneIsInRedisBeforeInvalidationIsPublished() throws Exception {
        assumeTrue(redis != null, TestRedis.SKIP_MESSAGE);
        String redisKey = redis.keyPrefix() + "product:3";
        redis.commands().set(redisKey, "{\"version\": 1, \"name\": \"product 3\"}");

        long version = database.returningVersion("UPDATE public.products SET stock = 9 WHERE id = 3 RETURNING version");
        awaitFirst(() -> recorder.invalidations("product:3").stream().filter(i -> i.version() == version).toList());

        // No waiting here: the tombstone is written before the invalidation is sent to Kafka.
        JsonNode tombstone = Json.mapper().readTree(redis.commands().get(redisKey));
        assertThat(tombstone.path("tombstone").asBoolean()).isTrue();
        assertThat(tombstone.path("invalidatedVersion").asLong()).isEqualTo(version);
        assertThat(redis.commands().pttl(redisKey)).isBetween(1L, 60_000L);
    }

    @Test
    void burstOfUpdatesPurgesOncePerWindow() throws Exception {
        int updates = 20;
        long lastVersion = 0;
        for (int i = 0; i < updates; i++) {
            lastVersion = database.returningVersion("UPDATE public.products SET stock = " + i + " WHERE id = 5 RETURNING version");
        }
        long finalVersion = lastVersion;
        Invalidation last = awaitFirst(() -> recorder.invalidations("product:5").stream().filter(i -> i.version() == finalVersion).toList());
        awaitFirst(() -> recorder.purges("product:5").stream().filter(p -> p.requestedAtMs() >= last.commitAtMs()).toList());

        List<Long> requestedAt = recorder.purges("product:5").stream().map(PurgeRequest::requestedAtMs).sorted().toList();
        log.info("{} updates of product:5 became {} purges", recorder.invalidations("product:5").size(), requestedAt.size());
        assertThat(recorder.invalidations("product:5")).hasSizeGreaterThanOrEqualTo(updates);
        for (int i = 1; i < requestedAt.size(); i++) {
            assertThat(requestedAt.get(i) - requestedAt.get(i - 1)).as("gap between purges of one key").isGreaterThanOrEqualTo(100);
        }
        Timer purgeLag = registry.get(InvalidatorMetrics.PURGE_LAG).timer();
        assertThat(purgeLag.count()).isPositive();
        assertThat(registry.get(InvalidatorMetrics.PURGES_PUBLISHED).tag("kind", "hard").counter().count()).isPositive();
        assertThat(registry.get(InvalidatorMetrics.PURGES_REQUESTED).counter().count()).isGreaterThanOrEqualTo(updates);
    }

    private static void produceChange(String key, String value) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(Topics.DB_CHANGES.name(), key, value)).get();
        }
    }

    private static String decode(String base64) {
        return base64 == null ? null : new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
    }

    private static <T> T awaitFirst(Supplier<List<T>> records) {
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
