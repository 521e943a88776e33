package dev.backbone.invalidator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Invalidation;
import dev.backbone.events.Json;
import dev.backbone.events.PurgeRequest;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Feeds records shaped as Kafka Connect's Debezium PostgreSQL connector writes them through the same processing code
 * as the embedded engine's records: {@link ChangeEventProcessor#processBatch}, on a mock consumer and producer.
 */
class KafkaConnectRecordTest {

    private static final TopicPartition PARTITION = new TopicPartition(Topics.DB_CHANGES.name(), 0);
    private static final Path CONNECTOR_CONFIG = Path.of("..", "compose", "connect", "debezium-postgres.json");

    /** The source block of Debezium 3.6 for a change at {@code lsn}. */
    private static final String SOURCE = """
            {"version": "3.6.1.Final", "connector": "postgresql", "name": "backbone-cdc", "ts_ms": 1700000000123,
             "snapshot": "false", "db": "backbone", "sequence": "[\\"24023128\\",\\"%d\\"]", "ts_us": 1700000000123456,
             "ts_ns": 1700000000123456000, "schema": "public", "table": "%s", "txId": 771, "lsn": %d, "xmin": null}""";

    private static final String PRODUCT_KEY_WITH_SCHEMA = """
            {"schema": {"type": "struct", "fields": [{"type": "int64", "optional": false, "field": "id"}],
                        "optional": false, "name": "backbone-cdc.public.products.Key"},
             "payload": {"id": 42}}""";

    private static final String PRODUCT_VALUE_SCHEMA = """
            {"type": "struct", "optional": false, "name": "backbone-cdc.public.products.Envelope", "version": 2,
             "fields": [
               {"type": "struct", "optional": true, "field": "before", "name": "backbone-cdc.public.products.Value",
                "fields": [{"type": "int64", "optional": false, "field": "id"},
                           {"type": "int64", "optional": false, "field": "category_id"},
                           {"type": "string", "optional": false, "field": "name"},
                           {"type": "int64", "optional": false, "field": "version"}]},
               {"type": "struct", "optional": true, "field": "after", "name": "backbone-cdc.public.products.Value",
                "fields": []},
               {"type": "struct", "optional": false, "field": "source", "name": "io.debezium.connector.postgresql.Source",
                "fields": []},
               {"type": "string", "optional": false, "field": "op"},
               {"type": "int64", "optional": true, "field": "ts_ms"}]}""";

    private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
    private final MockProducer<byte[], byte[]> producer =
            new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Clock clock = Clock.fixed(Instant.ofEpochMilli(1_700_000_000_500L), ZoneOffset.UTC);
    private final ChangeEventProcessor processor = new ChangeEventProcessor(consumer, producer, null,
            new PurgeCoalescer(0, false), null, new InvalidatorMetrics(registry, CacheInvalidatorConfig.DEFAULT_TABLES), clock);
    private long nextOffset;

    @BeforeEach
    void assignPartition() {
        consumer.assign(List.of(PARTITION));
        consumer.updateBeginningOffsets(Map.of(PARTITION, 0L));
    }

    @Test
    void connectRecordWithSchemaWrapper() {
        String value = """
                {"schema": %s,
                 "payload": {"before": {"id": 42, "category_id": 7, "name": "Lamp", "version": 3},
                             "after": {"id": 42, "category_id": 8, "name": "Desk lamp 💡", "version": 4},
                             "source": %s, "transaction": null, "op": "u", "ts_ms": 1700000000135}}"""
                .formatted(PRODUCT_VALUE_SCHEMA, SOURCE.formatted(24023184, "products", 24023184));
        feed(PRODUCT_KEY_WITH_SCHEMA, value);

        processAll();

        assertThat(invalidations()).extracting(Invalidation::cacheKey).containsExactly("product:42", "category:7", "category:8");
        assertThat(invalidations().get(0).version()).isEqualTo(4);
        assertThat(invalidations().get(0).commitAtMs()).isEqualTo(1700000000123L);
        assertThat(purges()).extracting(PurgeRequest::surrogateKey).containsExactly("product:42", "category:7", "category:8");
        assertThat(consumer.committed(Set.of(PARTITION)).get(PARTITION).offset()).isEqualTo(1);
    }

    @Test
    void connectRecordWithoutSchemas() {
        String value = """
                {"before": {"path": "/img/🦊.png", "content_type": "image/png"},
                 "after": {"path": "/img/🦊.png", "content_type": "image/webp"},
                 "source": %s, "transaction": null, "op": "u", "ts_ms": 1700000000135}"""
                .formatted(SOURCE.formatted(24023200, "static_assets", 24023200));
        feed("{\"path\":\"/img/🦊.png\"}", value);

        processAll();

        assertThat(invalidations()).extracting(Invalidation::cacheKey).containsExactly("asset:/img/🦊.png");
        assertThat(purges()).extracting(PurgeRequest::surrogateKey).containsExactly("asset:/img/🦊.png");
    }

    @Test
    void deleteFollowedByTombstone() {
        String delete = """
                {"before": {"id": 42, "category_id": 7, "name": "Lamp", "version": 3}, "after": null,
                 "source": %s, "transaction": null, "op": "d", "ts_ms": 1700000000135}"""
                .formatted(SOURCE.formatted(24023300, "products", 24023300));
        feed("{\"id\":42}", delete);
        feed("{\"id\":42}", null);

        processAll();

        assertThat(invalidations()).extracting(Invalidation::cacheKey).containsExactly("product:42", "category:7");
        assertThat(invalidations()).extracting(Invalidation::operation).containsOnly("d");
        assertThat(registry.get(InvalidatorMetrics.CHANGES_CONSUMED).tag("outcome", "ignored").counter().count()).isEqualTo(1);
        assertThat(registry.get(InvalidatorMetrics.DEAD_LETTERS).counter().count()).isZero();
        assertThat(consumer.committed(Set.of(PARTITION)).get(PARTITION).offset()).isEqualTo(2);
    }

    @Test
    void logicalTableRouterKeyWithoutImages() {
        String delete = """
                {"before": null, "after": null, "source": %s, "op": "d", "ts_ms": 1700000000135}"""
                .formatted(SOURCE.formatted(24023400, "categories", 24023400));
        feed("{\"id\":7,\"__dbz__physicalTableIdentifier\":\"backbone-cdc.public.categories\"}", delete);

        processAll();

        assertThat(invalidations()).extracting(Invalidation::cacheKey).containsExactly("category:7");
    }

    @Test
    void replayedEventIsCountedAsDuplicate() {
        String update = """
                {"before": {"id": 9, "name": "Lamps"}, "after": {"id": 9, "name": "Lights"},
                 "source": %s, "op": "u", "ts_ms": 1700000000135}"""
                .formatted(SOURCE.formatted(24023500, "categories", 24023500));
        feed("{\"id\":9}", update);
        feed("{\"id\":9}", update);

        processAll();

        assertThat(invalidations()).extracting(Invalidation::cacheKey).containsExactly("category:9", "category:9");
        assertThat(purges()).extracting(PurgeRequest::surrogateKey).containsExactly("category:9");
        assertThat(registry.get(InvalidatorMetrics.DUPLICATES).counter().count()).isEqualTo(1);
    }

    @Test
    void connectorConfigRoutesEveryTableToDbChanges() throws Exception {
        JsonNode config = Json.mapper().readTree(Files.readString(CONNECTOR_CONFIG)).path("config");

        assertThat(config.path("transforms.route.replacement").asText()).isEqualTo(Topics.DB_CHANGES.name());
        String regex = config.path("transforms.route.regex").asText();
        String prefix = config.path("topic.prefix").asText();
        for (String table : CacheInvalidatorConfig.DEFAULT_TABLES) {
            assertThat(prefix + "." + table).matches(regex);
        }
        assertThat("__debezium-heartbeat." + prefix).doesNotMatch(regex);
        assertThat(config.path("table.include.list").asText()).isEqualTo(CacheInvalidatorConfig.DEFAULT_TABLES.stream()
                .map(table -> table.replace(".", "\\.")).collect(Collectors.joining(",")));
        assertThat(config.path("plugin.name").asText()).isEqualTo("pgoutput");
        assertThat(config.path("decimal.handling.mode").asText()).isEqualTo("string");
        assertThat(config.path("key.converter").asText()).isEqualTo("org.apache.kafka.connect.json.JsonConverter");
        assertThat(config.path("value.converter").asText()).isEqualTo("org.apache.kafka.connect.json.JsonConverter");
    }

    private void feed(String key, String value) {
        consumer.addRecord(new ConsumerRecord<>(PARTITION.topic(), PARTITION.partition(), nextOffset++, utf8(key), utf8(value)));
    }

    private void processAll() {
        processor.processBatch(consumer.poll(Duration.ZERO));
        processor.flushPurgesIfDue();
    }

    private List<Invalidation> invalidations() {
        return sent(Topics.CACHE_INVALIDATIONS.name()).stream()
                .map(record -> Topics.CACHE_INVALIDATIONS.valueSerde().deserializer().deserialize(record.topic(), record.value()))
                .toList();
    }

    private List<PurgeRequest> purges() {
        return sent(Topics.CDN_PURGES.name()).stream()
                .map(record -> Topics.CDN_PURGES.valueSerde().deserializer().deserialize(record.topic(), record.value()))
                .toList();
    }

    private List<ProducerRecord<byte[], byte[]>> sent(String topic) {
        return producer.history().stream().filter(record -> record.topic().equals(topic)).toList();
    }

    private static byte[] utf8(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }
}
