package dev.backbone.ingest;

import dev.backbone.events.ClientRequest;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Serializes request events and rejects one larger than {@code max.event.bytes}. The routing layer wraps each event in
 * a larger routed request, so an event that only just fits Kafka's 1 MiB record limit would fail on the next hop,
 * where no client waits to learn why.
 */
final class EventSizeLimit implements Serializer<ClientRequest> {

    private final Serializer<ClientRequest> inner;
    private final int maxEventBytes;

    EventSizeLimit(Serializer<ClientRequest> inner, int maxEventBytes) {
        this.inner = inner;
        this.maxEventBytes = maxEventBytes;
    }

    @Override
    public byte[] serialize(String topic, ClientRequest request) {
        byte[] bytes = inner.serialize(topic, request);
        if (bytes != null && bytes.length > maxEventBytes) {
            throw new EventTooLargeException(bytes.length, maxEventBytes);
        }
        return bytes;
    }

    @Override
    public void close() {
        inner.close();
    }

    /** A request event over {@code max.event.bytes}; {@code KafkaProducer.send} throws it before anything is sent. */
    static final class EventTooLargeException extends SerializationException {

        EventTooLargeException(int size, int maxEventBytes) {
            super("the request event is " + size + " bytes, more than max.event.bytes=" + maxEventBytes
                    + "; send a smaller body");
        }
    }
}
