package dev.backbone.events;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A record that a consumer could not process, with its coordinates and the error.
 * The original key and value bytes are kept in base64 so that the record can be replayed unchanged.
 *
 * @param schemaVersion event schema version, {@link #SCHEMA_VERSION} for events written by this code
 * @param topic         the topic the record was read from
 * @param partition     its partition
 * @param offset        its offset
 * @param keyBase64     the original key bytes in base64, or {@code null} for a null key
 * @param valueBase64   the original value bytes in base64, or {@code null} for a null value
 * @param error         the error message, naming what was wrong
 * @param errorClass    the exception class name
 * @param consumer      the consumer that failed: an application or group id
 * @param failedAtMs    when it failed, epoch milliseconds
 */
public record DeadLetter(
        int schemaVersion,
        String topic,
        int partition,
        long offset,
        String keyBase64,
        String valueBase64,
        String error,
        String errorClass,
        String consumer,
        long failedAtMs) {

    public static final int SCHEMA_VERSION = 1;

    /**
     * The Kafka header that {@code backbone dlq replay} adds to a replayed record: the partition and offset of the dead
     * letter it came from, such as {@code 0:12}, as UTF-8 text. Every dead-letter writer copies it from a record that
     * fails again onto the new dead letter, so that a replay that failed once more is recognisable.
     */
    public static final String REPLAY_HEADER = "backbone.replay.of";

    public DeadLetter {
        Events.requireSchemaVersion(schemaVersion, SCHEMA_VERSION, "DeadLetter");
        Events.requireText(topic, "topic");
    }

    /** Returns the headers for a dead letter of a record with {@code source} headers: the replay header, when present. */
    public static Headers replayHeaders(Headers source) {
        var headers = new RecordHeaders();
        Header replayOf = source == null ? null : source.lastHeader(REPLAY_HEADER);
        if (replayOf != null) {
            headers.add(REPLAY_HEADER, replayOf.value());
        }
        return headers;
    }
}
