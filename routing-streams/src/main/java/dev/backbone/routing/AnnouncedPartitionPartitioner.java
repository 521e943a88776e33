package dev.backbone.routing;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Writes a routed request to a partition its app server consumes. Of the partitions the server announced in its last
 * heartbeat that exist on the topic, the murmur2 hash of the routing key picks one, so one key stays on one partition
 * while the announcement is unchanged. Without a usable announcement, the hash picks among all partitions, as Kafka's
 * default partitioner does. Stateless and thread-safe.
 *
 * <p>App servers of every pool announce partitions of the one {@code backbone.routed-requests} topic, because each
 * pool's servers form a consumer group of their own over all its partitions. A request for one pool is therefore
 * also read by the other pools' servers, which skip it.
 */
final class AnnouncedPartitionPartitioner implements StreamPartitioner<String, RoutedOutput> {

    @Override
    public Optional<Set<Integer>> partitions(String topic, String routingKey, RoutedOutput value, int numPartitions) {
        return Optional.of(Set.of(partitionFor(routingKey, value.announcedPartitions(), numPartitions)));
    }

    /** Returns the partition for a routing key, preferring the announced partitions below {@code numPartitions}. */
    static int partitionFor(String routingKey, List<Integer> announced, int numPartitions) {
        int hash = Utils.toPositive(Utils.murmur2(routingKey.getBytes(StandardCharsets.UTF_8)));
        // A loop rather than a stream: this runs once per routed request, and the lists are short.
        int[] usable = new int[announced.size()];
        int count = 0;
        for (Integer partition : announced) {
            if (partition != null && partition >= 0 && partition < numPartitions) {
                usable[count++] = partition;
            }
        }
        if (count == 0) {
            return hash % numPartitions;
        }
        Arrays.sort(usable, 0, count);
        int distinct = 0;
        for (int i = 0; i < count; i++) {
            if (i == 0 || usable[i] != usable[i - 1]) {
                usable[distinct++] = usable[i];
            }
        }
        return usable[hash % distinct];
    }
}
