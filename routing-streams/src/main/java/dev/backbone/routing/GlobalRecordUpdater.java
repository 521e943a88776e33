package dev.backbone.routing;

import dev.backbone.events.JsonSerde;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps a global store in step with a compacted topic. A value is parsed, checked and stored under its canonical key,
 * and a null value deletes the key. Records are deserialized here rather than by the source, so that a malformed one
 * goes to the {@link DeadLetterSink} and the global thread goes on.
 *
 * <p>Kafka Streams also replays the topic through this processor when it rebuilds the store at start-up, so a
 * malformed record is dead-lettered again by each instance that rebuilds.
 */
abstract class GlobalRecordUpdater<V> implements Processor<byte[], byte[], Void, Void> {

    private final String storeName;
    private final JsonSerde<V> serde;
    private final DeadLetterSink deadLetters;
    private final String consumerName;
    private final RoutingMetrics metrics;
    private ProcessorContext<Void, Void> context;
    private KeyValueStore<String, V> store;

    GlobalRecordUpdater(String storeName, JsonSerde<V> serde, DeadLetterSink deadLetters, String consumerName,
                        RoutingMetrics metrics) {
        this.storeName = storeName;
        this.serde = serde;
        this.deadLetters = deadLetters;
        this.consumerName = consumerName;
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        this.context = context;
        this.store = context.getStateStore(storeName);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        String topic = context.recordMetadata().map(RecordMetadata::topic).orElse(storeName);
        try {
            if (record.key() == null) {
                throw new IllegalArgumentException("record key is missing");
            }
            String key = canonicalKey(new String(record.key(), StandardCharsets.UTF_8));
            if (record.value() == null) {
                store.delete(key);
                deleted(key, context.currentSystemTimeMs());
                return;
            }
            V value = checked(key, serde.deserialize(topic, record.value()));
            store.put(key, value);
            stored(key, value, context.currentSystemTimeMs());
        } catch (IllegalArgumentException | SerializationException e) {
            deadLetter(topic, record, e);
        }
    }

    /**
     * Returns the key under which a record is stored, from the record key on the topic.
     *
     * @throws IllegalArgumentException naming what is wrong with the key
     */
    abstract String canonicalKey(String topicKey);

    /**
     * Returns the value to store after checking it against its canonical key.
     *
     * @throws IllegalArgumentException naming the mismatch
     */
    abstract V checked(String canonicalKey, V value);

    /** Called after a value is stored, with the wall-clock time; does nothing unless overridden. */
    void stored(String key, V value, long nowMs) {
    }

    /** Called after a key is deleted, with the wall-clock time; does nothing unless overridden. */
    void deleted(String key, long nowMs) {
    }

    private void deadLetter(String topic, Record<byte[], byte[]> record, Exception error) {
        int partition = context.recordMetadata().map(RecordMetadata::partition).orElse(-1);
        long offset = context.recordMetadata().map(RecordMetadata::offset).orElse(-1L);
        var letter = DeadLetters.of(topic, partition, offset, record.key(), record.value(), error, consumerName,
                context.currentSystemTimeMs());
        deadLetters.send(record.key(), letter, record.headers());
        metrics.deadLetter(topic);
    }
}
