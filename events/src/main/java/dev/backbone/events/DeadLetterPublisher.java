package dev.backbone.events;

import java.util.Base64;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends records a consumer cannot process to {@code backbone.dead-letters}, so that one bad record never stops a consumer.
 * Thread-safe. The producer belongs to the caller, who closes it.
 */
public final class DeadLetterPublisher {

    private static final Logger log = LoggerFactory.getLogger(DeadLetterPublisher.class);

    private final Producer<byte[], byte[]> producer;
    private final String consumerName;
    private final AtomicLong published = new AtomicLong();

    /**
     * @param producer     a byte-array producer; acks=all is expected, as for every Backbone producer
     * @param consumerName the application or group id recorded on each dead letter
     */
    public DeadLetterPublisher(Producer<byte[], byte[]> producer, String consumerName) {
        this.producer = producer;
        this.consumerName = consumerName;
    }

    /** Publishes a dead letter for a record that failed with {@code error}. Logs coordinates, never the payload. */
    public void publish(ConsumerRecord<byte[], byte[]> record, Exception error) {
        publish(record.topic(), record.partition(), record.offset(), record.key(), record.value(), record.headers(), error);
    }

    /** Publishes a dead letter from raw coordinates and bytes. */
    public void publish(String topic, int partition, long offset, byte[] key, byte[] value, Exception error) {
        publish(topic, partition, offset, key, value, null, error);
    }

    private void publish(String topic, int partition, long offset, byte[] key, byte[] value, Headers headers, Exception error) {
        var letter = new DeadLetter(DeadLetter.SCHEMA_VERSION, topic, partition, offset,
                key == null ? null : Base64.getEncoder().encodeToString(key),
                value == null ? null : Base64.getEncoder().encodeToString(value),
                String.valueOf(error.getMessage()), error.getClass().getName(), consumerName, System.currentTimeMillis());
        byte[] bytes = Topics.DEAD_LETTERS.valueSerde().serializer().serialize(Topics.DEAD_LETTERS.name(), letter);
        var deadLetter = new ProducerRecord<>(Topics.DEAD_LETTERS.name(), null, key, bytes, DeadLetter.replayHeaders(headers));
        producer.send(deadLetter, (metadata, sendError) -> {
            if (sendError != null) {
                log.error("Cannot write dead letter for {}-{}@{}: {}", topic, partition, offset, sendError.toString());
            }
        });
        long count = published.incrementAndGet();
        log.warn("Dead-lettered record {}-{}@{} ({} so far in {}): {}", topic, partition, offset, count, consumerName, error.getMessage());
    }

    /** Returns how many dead letters this publisher has sent. */
    public long published() {
        return published.get();
    }
}
