package dev.backbone.invalidator;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads back the change events just before a group's committed offsets, with a short-lived consumer outside the
 * group, so that an invalidator that starts or takes over partitions recognizes the changes Debezium replays after a
 * crash. The read is best effort: a failure is logged and only makes the duplicate count lower.
 */
final class RecentChanges {

    private static final Logger log = LoggerFactory.getLogger(RecentChanges.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(200);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

    /** Receives one change read back. */
    interface Sink {
        void accept(DatabaseChange change);
    }

    private final ChangeEventParser parser;
    private final Supplier<Consumer<byte[], byte[]>> readers;

    RecentChanges(ChangeEventParser parser, Supplier<Consumer<byte[], byte[]>> readers) {
        this.parser = parser;
        this.readers = readers;
    }

    /**
     * Reads up to {@code maxRecords} records before each committed offset and passes every readable change to
     * {@code sink}. Partitions without a committed offset are skipped.
     *
     * @return how many changes were passed to the sink
     */
    int readBefore(Map<TopicPartition, OffsetAndMetadata> committed, int maxRecords, Sink sink) {
        Map<TopicPartition, Long> endOffsets = new HashMap<>();
        committed.forEach((partition, offset) -> {
            if (offset != null && offset.offset() > 0) {
                endOffsets.put(partition, offset.offset());
            }
        });
        if (endOffsets.isEmpty()) {
            return 0;
        }
        int read = 0;
        try (Consumer<byte[], byte[]> reader = readers.get()) {
            reader.assign(endOffsets.keySet());
            endOffsets.forEach((partition, end) -> reader.seek(partition, Math.max(0, end - maxRecords)));
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (!endOffsets.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : reader.poll(POLL_TIMEOUT)) {
                    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
                    Long end = endOffsets.get(partition);
                    if (end == null || record.offset() >= end) {
                        continue;
                    }
                    Optional<DatabaseChange> change = parse(record);
                    if (change.isPresent()) {
                        sink.accept(change.get());
                        read++;
                    }
                }
                endOffsets.entrySet().removeIf(entry -> reader.position(entry.getKey()) >= entry.getValue());
            }
        } catch (KafkaException e) {
            log.warn("Cannot read back recent change events, so replays after this restart are not counted as duplicates: {}",
                    e.toString());
        }
        return read;
    }

    private Optional<DatabaseChange> parse(ConsumerRecord<byte[], byte[]> record) {
        try {
            String value = record.value() == null ? null : ChangeEventProcessor.decodeUtf8(record.value(), "value");
            return parser.parse(ChangeEventProcessor.keyText(record.key()), value);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
