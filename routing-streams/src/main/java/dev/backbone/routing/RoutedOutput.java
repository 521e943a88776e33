package dev.backbone.routing;

import dev.backbone.events.RoutedRequest;
import dev.backbone.events.Topics;
import java.util.List;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A routed request on its way to {@code backbone.routed-requests}, with the partitions its app server announced.
 * Only the request is written; the partitions are read by {@link AnnouncedPartitionPartitioner}.
 *
 * @param routed              the event written
 * @param announcedPartitions the partitions the chosen app server consumes, from its last heartbeat; may be empty
 */
record RoutedOutput(RoutedRequest routed, List<Integer> announcedPartitions) {

    RoutedOutput {
        announcedPartitions = List.copyOf(announcedPartitions);
    }

    /** Writes the {@link RoutedRequest} with the topic's value serde. */
    static final class ValueSerializer implements Serializer<RoutedOutput> {

        private final Serializer<RoutedRequest> delegate = Topics.ROUTED_REQUESTS.valueSerde().serializer();

        @Override
        public byte[] serialize(String topic, RoutedOutput data) {
            return data == null ? null : delegate.serialize(topic, data.routed());
        }
    }
}
