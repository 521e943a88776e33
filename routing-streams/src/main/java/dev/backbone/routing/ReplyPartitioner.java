package dev.backbone.routing;

import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Writes an error response to the reply partition of the front door that waits for it. A reply partition the topic
 * does not have is logged and the response dropped, because no front door reads it. That client gets a 504 from its
 * front door instead.
 */
final class ReplyPartitioner implements StreamPartitioner<String, ReplyOutput> {

    private static final Logger log = LoggerFactory.getLogger(ReplyPartitioner.class);

    @Override
    public Optional<Set<Integer>> partitions(String topic, String requestId, ReplyOutput value, int numPartitions) {
        int partition = value.replyPartition();
        if (partition < numPartitions) {
            return Optional.of(Set.of(partition));
        }
        log.warn("Dropped the error response to request {}: replyPartition {} does not exist on {} ({} partitions); "
                + "check the front door's reply.partition", requestId, partition, topic, numPartitions);
        // An empty set makes Kafka Streams drop the record.
        return Optional.of(Set.of());
    }
}
