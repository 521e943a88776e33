package dev.backbone.invalidator;

import dev.backbone.events.DeadLetter;
import dev.backbone.events.Invalidation;
import dev.backbone.events.PurgeRequest;
import dev.backbone.events.Topic;
import dev.backbone.events.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads the output topics of the invalidator from the beginning, without a consumer group, and keeps every record.
 * Not thread-safe: call {@link #poll()} from the test thread only (Awaitility's {@code pollInSameThread}).
 */
final class TopicRecorder implements AutoCloseable {

    /** A record of {@code backbone.db-changes} as text. */
    record DbChange(String key, String value) {
    }

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<DbChange> dbChanges = new ArrayList<>();
    private final List<Invalidation> invalidations = new ArrayList<>();
    private final List<PurgeRequest> purges = new ArrayList<>();
    private final List<DeadLetter> deadLetters = new ArrayList<>();

    TopicRecorder(String bootstrapServers) {
        consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = Stream.of(Topics.DB_CHANGES, Topics.CACHE_INVALIDATIONS, Topics.CDN_PURGES, Topics.DEAD_LETTERS)
                .flatMap(TopicRecorder::partitions)
                .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    private static Stream<TopicPartition> partitions(Topic<?, ?> topic) {
        return Stream.iterate(0, p -> p < topic.partitions(), p -> p + 1).map(p -> new TopicPartition(topic.name(), p));
    }

    /** Reads what has arrived since the last call. */
    void poll() {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(50))) {
            String topic = record.topic();
            if (topic.equals(Topics.DB_CHANGES.name())) {
                dbChanges.add(new DbChange(text(record.key()), text(record.value())));
            } else if (topic.equals(Topics.CACHE_INVALIDATIONS.name())) {
                invalidations.add(Topics.CACHE_INVALIDATIONS.valueSerde().deserializer().deserialize(topic, record.value()));
            } else if (topic.equals(Topics.CDN_PURGES.name())) {
                purges.add(Topics.CDN_PURGES.valueSerde().deserializer().deserialize(topic, record.value()));
            } else {
                deadLetters.add(Topics.DEAD_LETTERS.valueSerde().deserializer().deserialize(topic, record.value()));
            }
        }
    }

    private static String text(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    List<DbChange> dbChanges() {
        return dbChanges;
    }

    List<Invalidation> invalidations(String cacheKey) {
        return invalidations.stream().filter(i -> i.cacheKey().equals(cacheKey)).toList();
    }

    List<Invalidation> allInvalidations() {
        return invalidations;
    }

    List<PurgeRequest> allPurges() {
        return purges;
    }

    List<PurgeRequest> purges(String surrogateKey) {
        return purges.stream().filter(p -> p.surrogateKey().equals(surrogateKey)).toList();
    }

    List<DeadLetter> deadLetters() {
        return deadLetters;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
