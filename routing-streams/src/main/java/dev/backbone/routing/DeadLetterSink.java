package dev.backbone.routing;

import dev.backbone.events.DeadLetter;
import org.apache.kafka.common.header.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination of the dead letters of malformed DNS records and heartbeats, which the global-store processors send. They need one of
 * their own because Kafka Streams gives processors of global stores no way to write records. Implementations must be
 * thread-safe: the global stream thread calls them.
 */
@FunctionalInterface
public interface DeadLetterSink {

    /**
     * Sends a dead letter, keyed by the original record key.
     *
     * @param originalKey the key bytes of the malformed record, or null
     * @param letter      the dead letter
     * @param headers     the headers of the malformed record, whose replay header the dead letter keeps
     */
    void send(byte[] originalKey, DeadLetter letter, Headers headers);

    /** Returns a sink that only logs each dead letter's coordinates, for topologies run without a producer. */
    static DeadLetterSink logOnly() {
        Logger log = LoggerFactory.getLogger(DeadLetterSink.class);
        return (key, letter, headers) -> log.warn("Malformed record {}-{}@{} not dead-lettered (no producer configured): {}",
                letter.topic(), letter.partition(), letter.offset(), letter.error());
    }
}
