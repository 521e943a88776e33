package dev.backbone.launcher;

import dev.backbone.events.DeadLetter;
import dev.backbone.events.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads {@code backbone.dead-letters} from its first offset up to the end offsets taken when the scan starts, so that
 * dead letters written during the scan, such as those of a replay that fails again, are not part of it. Uses a
 * consumer without a group, so it commits nothing. Each wait for Kafka is bounded by the timeout.
 */
final class DeadLetterScan {

    /**
     * One record of {@code backbone.dead-letters}.
     *
     * @param partition   its partition of {@code backbone.dead-letters}
     * @param offset      its offset there
     * @param timestampMs its record timestamp, epoch milliseconds
     * @param letter      the dead letter, or null when the record is not a readable {@link DeadLetter}
     * @param unreadable  why the record is not a readable dead letter, or null
     * @param replayOf    the value of {@link DeadLetter#REPLAY_HEADER}: the dead letter that the failed record was
     *                    replayed from, such as {@code 0:12}, or null
     */
    record Stored(int partition, long offset, long timestampMs, DeadLetter letter, String unreadable, String replayOf) {

        /** Returns the dead-letter offset as the commands print and accept it: {@code 12}, or {@code 1:12} beyond partition 0. */
        String id() {
            return partition == 0 ? Long.toString(offset) : partition + ":" + offset;
        }

        /** Returns {@link #replayOf()} in the form of {@link #id()}, or null. */
        String replayOfId() {
            return replayOf != null && replayOf.startsWith("0:") ? replayOf.substring(2) : replayOf;
        }

        byte[] key() {
            return letter == null || letter.keyBase64() == null ? null : Base64.getDecoder().decode(letter.keyBase64());
        }

        byte[] value() {
            return letter == null || letter.valueBase64() == null ? null : Base64.getDecoder().decode(letter.valueBase64());
        }
    }

    /** Kafka could not be reached or did not answer in time; the message says which and what to check. */
    static final class UnreachableException extends Exception {
        UnreachableException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final String bootstrapServers;
    private final Duration timeout;

    DeadLetterScan(String bootstrapServers, Duration timeout) {
        this.bootstrapServers = bootstrapServers;
        this.timeout = timeout;
    }

    /**
     * Returns every dead letter that {@code filter} accepts, in partition and offset order.
     *
     * @throws UnreachableException when Kafka does not answer within the timeout, or the topic does not exist
     */
    List<Stored> read(Predicate<Stored> filter) throws UnreachableException {
        try (var consumer = new KafkaConsumer<>(consumerConfig(), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = partitions(consumer, Topics.DEAD_LETTERS.name());
            consumer.assign(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, timeout);
            consumer.seekToBeginning(partitions);

            List<Stored> matching = new ArrayList<>();
            long idleSince = System.nanoTime();
            while (!reachedEnd(consumer, ends)) {
                var records = consumer.poll(Duration.ofMillis(200));
                if (!records.isEmpty()) {
                    idleSince = System.nanoTime();
                }
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    if (record.offset() >= ends.get(new TopicPartition(record.topic(), record.partition()))) {
                        continue;
                    }
                    Stored stored = parse(record);
                    if (filter.test(stored)) {
                        matching.add(stored);
                    }
                }
                if (System.nanoTime() - idleSince > timeout.toNanos()) {
                    throw new UnreachableException("reading " + Topics.DEAD_LETTERS.name() + " from " + bootstrapServers
                            + " made no progress for " + timeout.toSeconds() + " s", null);
                }
            }
            matching.sort(java.util.Comparator.comparingInt(Stored::partition).thenComparingLong(Stored::offset));
            return matching;
        } catch (TimeoutException e) {
            throw unreachable(e);
        } catch (KafkaException e) {
            throw new UnreachableException("cannot use Kafka at " + bootstrapServers + ": " + e.getMessage(), e);
        }
    }

    /**
     * Returns the partitions of a topic.
     *
     * @throws UnreachableException when Kafka does not answer within the timeout or has no such topic
     */
    List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) throws UnreachableException {
        List<PartitionInfo> infos;
        try {
            infos = consumer.partitionsFor(topic, timeout);
        } catch (TimeoutException e) {
            throw unreachable(e);
        }
        if (infos == null || infos.isEmpty()) {
            throw new UnreachableException("topic " + topic + " does not exist on " + bootstrapServers
                    + "; is that the cluster Backbone runs on?", null);
        }
        return infos.stream().map(info -> new TopicPartition(topic, info.partition()))
                .sorted(java.util.Comparator.comparingInt(TopicPartition::partition)).toList();
    }

    Map<String, Object> consumerConfig() {
        int timeoutMs = (int) timeout.toMillis();
        return Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.CLIENT_ID_CONFIG, "backbone-dlq",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs,
                ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
    }

    private UnreachableException unreachable(TimeoutException e) {
        return new UnreachableException("cannot reach Kafka at " + bootstrapServers + " within " + timeout.toSeconds()
                + " s; pass --bootstrap-servers with the Kafka bootstrap address that 'backbone serve' or "
                + "'backbone cluster' prints", e);
    }

    private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> ends) {
        for (var end : ends.entrySet()) {
            if (consumer.position(end.getKey()) < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static Stored parse(ConsumerRecord<byte[], byte[]> record) {
        Header replay = record.headers().lastHeader(DeadLetter.REPLAY_HEADER);
        String replayOf = replay == null ? null : new String(replay.value(), StandardCharsets.UTF_8);
        try {
            DeadLetter letter = Topics.DEAD_LETTERS.valueSerde().deserializer().deserialize(record.topic(), record.value());
            if (letter == null) {
                return new Stored(record.partition(), record.offset(), record.timestamp(), null, "null value", replayOf);
            }
            return new Stored(record.partition(), record.offset(), record.timestamp(), letter, null, replayOf);
        } catch (SerializationException e) {
            return new Stored(record.partition(), record.offset(), record.timestamp(), null, e.getMessage(), replayOf);
        }
    }

    /**
     * Returns a one-line preview of record bytes with their length: UTF-8 text with control characters as {@code \xNN},
     * or, for bytes that are not UTF-8, the bytes with everything outside printable ASCII as {@code \xNN}. A longer
     * preview is cut after {@code maxLength} characters; absent bytes are {@code (none)}.
     */
    static String preview(byte[] bytes, int maxLength) {
        if (bytes == null) {
            return "(none)";
        }
        var text = new StringBuilder();
        String decoded = strictUtf8(bytes);
        if (decoded != null) {
            decoded.codePoints().forEach(c -> text.append(c < 0x20 || c == 0x7f ? String.format("\\x%02X", c)
                    : new String(Character.toChars(c))));
        } else {
            for (byte b : bytes) {
                int c = b & 0xff;
                text.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("\\x%02X", c));
            }
        }
        String shown = text.length() > maxLength ? text.substring(0, maxLength) + "..." : text.toString();
        return shown + "  (" + bytes.length + " bytes" + (decoded == null ? ", not UTF-8" : "") + ")";
    }

    private static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
