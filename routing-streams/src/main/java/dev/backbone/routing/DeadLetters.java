package dev.backbone.routing;

import dev.backbone.events.DeadLetter;
import dev.backbone.events.Topics;
import java.util.Base64;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;

/** Builds dead letters and the records that carry them to {@code backbone.dead-letters}. */
final class DeadLetters {

    private DeadLetters() {
    }

    /** Builds a dead letter for the record at the given coordinates, keeping its original bytes. */
    static DeadLetter of(String topic, int partition, long offset, byte[] key, byte[] value, Exception error,
                         String consumer, long failedAtMs) {
        return new DeadLetter(DeadLetter.SCHEMA_VERSION, topic, partition, offset, base64(key), base64(value),
                String.valueOf(error.getMessage()), error.getClass().getName(), consumer, failedAtMs);
    }

    /**
     * Returns the record for {@code backbone.dead-letters}, keyed by the original key bytes, with the replay header of
     * the original record's {@code headers} when it has one.
     */
    static ProducerRecord<byte[], byte[]> toRecord(byte[] originalKey, DeadLetter letter, Headers headers) {
        byte[] value = Topics.DEAD_LETTERS.valueSerde().serializer().serialize(Topics.DEAD_LETTERS.name(), letter);
        return new ProducerRecord<>(Topics.DEAD_LETTERS.name(), null, originalKey, value, DeadLetter.replayHeaders(headers));
    }

    private static String base64(byte[] bytes) {
        return bytes == null ? null : Base64.getEncoder().encodeToString(bytes);
    }
}
