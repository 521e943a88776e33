package dev.backbone.routing;

import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Writes an error answer to the reply partition of the front door that waits for it. A reply partition the topic does
 * not have is logged and the answer dropped, because no front door reads it; that client gets its 504 instead.
 */
final class ReplyPartitioner implements StreamPartitioner<String, ReplyOutput> {

    private static final Logger log = LoggerFactory.getLogger(ReplyPartitioner.class);

    @Override
    public Optional<Set<Integer>> partitions(String topic, String requestId, ReplyOutput value, int numPartitions) {
        int partition = value.replyPartition();
        if (partition < numPartitions) {
            return Optional.of(Set.of(partition));
        }
        log.warn("Dropped the answer to request {}: replyPartition {} does not exist on {} ({} partitions)",
                requestId, partition, topic, numPartitions);
        // An empty set tells Kafka Streams to drop the record.
        return Optional.of(Set.of());
    }
}
