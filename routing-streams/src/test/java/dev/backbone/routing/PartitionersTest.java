package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.RoutedRequest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PartitionersTest {

    private static RoutedOutput routedTo(List<Integer> announced) {
        var request = new ClientRequest(ClientRequest.SCHEMA_VERSION, "req-1", "client-1", "eu-west", "DE",
                "shop.example.com", "GET", "/", "", Map.of(), null, "ingest-1", 0, 0, 0);
        var routed = new RoutedRequest(RoutedRequest.SCHEMA_VERSION, request, "global", "lb-1", List.of(), "shop",
                "app-1", "client-1", false, 0);
        return new RoutedOutput(routed, announced);
    }

    @Test
    void announcedPartitionIsChosen() {
        var partitioner = new AnnouncedPartitionPartitioner();
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < 200; i++) {
            var partitions = partitioner.partitions("routed", "client-" + i, routedTo(List.of(7, 3)), 12);
            assertThat(partitions).isPresent();
            assertThat(partitions.get()).hasSize(1);
            int partition = partitions.get().iterator().next();
            assertThat(partition).isIn(3, 7);
            counts.merge(partition, 1, Integer::sum);
        }
        assertThat(counts.keySet()).as("keys spread over both announced partitions").containsExactlyInAnyOrder(3, 7);
    }

    @Test
    void sameKeyGetsSamePartition() {
        int first = AnnouncedPartitionPartitioner.partitionFor("client-5", List.of(1, 4, 9), 12);
        assertThat(AnnouncedPartitionPartitioner.partitionFor("client-5", List.of(9, 4, 1), 12)).isEqualTo(first);
    }

    @Test
    void partitionsBeyondTopicAreIgnored() {
        for (int i = 0; i < 50; i++) {
            assertThat(AnnouncedPartitionPartitioner.partitionFor("k" + i, List.of(2, 40), 12)).isEqualTo(2);
        }
    }

    @Test
    void noAnnouncementHashesOverAllPartitions() {
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < 600; i++) {
            int partition = AnnouncedPartitionPartitioner.partitionFor("client-" + i, List.of(), 12);
            assertThat(partition).isBetween(0, 11);
            counts.merge(partition, 1, Integer::sum);
        }
        assertThat(counts).hasSize(12);
    }

    @Test
    void replyGoesToReplyPartition() {
        var response = ClientResponse.error("req-1", 404, "unknown_host", "no DNS record", Map.of(), "routing", 0);
        var partitioner = new ReplyPartitioner();

        assertThat(partitioner.partitions("responses", "req-1", new ReplyOutput(response, 4), 6)).contains(Set.of(4));
        assertThat(partitioner.partitions("responses", "req-1", new ReplyOutput(response, 6), 6))
                .as("a partition the topic lacks drops the answer").contains(Set.of());
    }
}
