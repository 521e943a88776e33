package dev.backbone.appserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.DeadLetterPublisher;
import dev.backbone.events.RoutedRequest;
import dev.backbone.events.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The request loop's bookkeeping on Kafka's mock consumer and producer: requests read after a slow one are answered
 * while it is still in progress, offsets are committed only up to the first unfinished request, a retriable send
 * failure rewinds the partition, and the loop pauses at its limit of requests in progress. {@code AppServerIT} and the
 * failover tests run the loop on a real broker.
 */
class RoutedRequestLoopTest {

    private static final TopicPartition PARTITION = new TopicPartition(Topics.ROUTED_REQUESTS.name(), 0);
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
    private final ExecutorService workers = Executors.newFixedThreadPool(4);
    private final Set<String> answered = ConcurrentHashMap.newKeySet();
    private final CountDownLatch slowRelease = new CountDownLatch(1);
    private final CountDownLatch slowStarted = new CountDownLatch(1);
    private RoutedRequestLoop loop;
    private Thread thread;

    @AfterEach
    void stop() throws InterruptedException {
        slowRelease.countDown();
        if (loop != null) {
            loop.stop();
            thread.join(WAIT.toMillis());
        }
        workers.shutdownNow();
    }

    @Test
    void answersLaterRequestsDuringSlowOne() throws Exception {
        var producer = producer(true);
        start(producer, 100);
        add(0, "slow");
        assertThat(slowStarted.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        // Read by later polls, while the slow request is in progress.
        add(1, "fast-1");
        add(2, "fast-2");

        // The handler marks a request answered before its response is sent, so wait for the sends.
        await("the fast requests' responses are sent").atMost(WAIT).until(() -> sentRequestIds(producer).size() == 2);
        assertThat(sentRequestIds(producer)).containsExactlyInAnyOrder("fast-1", "fast-2");
        assertThat(answered).doesNotContain("slow");
        // Offset 0 is still in progress, so nothing may be committed: a new owner must handle it.
        awaitLoopIteration();
        assertThat(committed()).isNull();

        slowRelease.countDown();
        await("offsets committed up to the last request").atMost(WAIT).until(() -> committed() != null && committed().offset() == 3);
        assertThat(sentRequestIds(producer)).containsExactlyInAnyOrder("slow", "fast-1", "fast-2");
    }

    @Test
    void rewindsOnRetriableSendFailure() throws Exception {
        var producer = producer(false);
        start(producer, 100);
        add(0, "first");
        add(1, "second");

        await("both responses sent").atMost(WAIT).until(() -> producer.history().size() == 2);
        // Fail the first send with a retriable error and acknowledge the second.
        int failedIndex = sentRequestIds(producer).indexOf("first");
        if (failedIndex == 0) {
            assertThat(producer.errorNext(new TimeoutException("broker did not answer"))).isTrue();
            assertThat(producer.completeNext()).isTrue();
        } else {
            assertThat(producer.completeNext()).isTrue();
            assertThat(producer.errorNext(new TimeoutException("broker did not answer"))).isTrue();
        }

        // The loop seeks back to offset 0; the mock consumer hands out each record once, so offer both again.
        await("the partition rewound to offset 0").atMost(WAIT).until(() -> consumer.position(PARTITION) == 0);
        add(0, "first");
        add(1, "second");
        await("both requests handled again").atMost(WAIT).until(() -> producer.history().size() == 4);
        assertThat(sentRequestIds(producer).subList(2, 4)).containsExactlyInAnyOrder("first", "second");
        assertThat(committed()).isNull();
        while (producer.completeNext()) {
            // acknowledge the second round
        }
        await("offsets committed after the second round").atMost(WAIT).until(() -> committed() != null && committed().offset() == 2);
    }

    @Test
    void pausesAtInProgressLimit() throws Exception {
        var producer = producer(true);
        start(producer, 1);
        add(0, "slow");
        assertThat(slowStarted.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        await("the partition is paused").atMost(WAIT).until(() -> consumer.paused().contains(PARTITION));
        add(1, "waiting");
        awaitLoopIteration();
        assertThat(answered).isEmpty();

        slowRelease.countDown();
        await("the next request is read once the slow one finished").atMost(WAIT).until(() -> answered.contains("waiting"));
        // With a limit of 1, reading that request pauses the partition again until it is committed.
        await("both requests committed").atMost(WAIT).until(() -> committed() != null && committed().offset() == 2);
        await("the partition resumed").atMost(WAIT).until(() -> consumer.paused().isEmpty());
    }

    private MockProducer<byte[], byte[]> producer(boolean autoComplete) {
        var node = new Node(0, "localhost", 9092);
        var partitions = List.of(new PartitionInfo(Topics.RESPONSES.name(), 0, node, new Node[]{node}, new Node[]{node}),
                new PartitionInfo(Topics.RESPONSES.name(), 1, node, new Node[]{node}, new Node[]{node}));
        var cluster = new Cluster("test", List.of(node), partitions, Set.of(), Set.of());
        return new MockProducer<>(cluster, autoComplete, null, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private void start(MockProducer<byte[], byte[]> producer, int maxInProgress) {
        Function<ClientRequest, ClientResponse> handler = request -> {
            if (request.requestId().equals("slow")) {
                slowStarted.countDown();
                try {
                    slowRelease.await(WAIT.toSeconds(), TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            answered.add(request.requestId());
            return new ClientResponse(ClientResponse.SCHEMA_VERSION, request.requestId(), 200, Map.of(), "{}", "app-1",
                    System.currentTimeMillis());
        };
        loop = new RoutedRequestLoop(consumer, producer, new DeadLetterPublisher(producer, "test"), handler, workers,
                "shop", Clock.systemUTC(), () -> { }, maxInProgress);
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(PARTITION));
            consumer.updateBeginningOffsets(Map.of(PARTITION, 0L));
        });
        thread = new Thread(loop, "routed-request-loop-test");
        thread.start();
    }

    private void add(long offset, String requestId) {
        long now = System.currentTimeMillis();
        var request = new ClientRequest(ClientRequest.SCHEMA_VERSION, requestId, "client-1", "eu-west", "DE",
                "shop.example.com", "GET", "/products/1", "", Map.of(), null, "ingest-1", 1, now, now + 60_000);
        var routed = new RoutedRequest(RoutedRequest.SCHEMA_VERSION, request, "global", "lb-1", List.of(), "shop", "app-1",
                "client-1", false, now);
        byte[] value = Topics.ROUTED_REQUESTS.valueSerde().serializer().serialize(Topics.ROUTED_REQUESTS.name(), routed);
        consumer.schedulePollTask(() -> consumer.addRecord(new ConsumerRecord<>(PARTITION.topic(), PARTITION.partition(), offset,
                "client-1".getBytes(StandardCharsets.UTF_8), value)));
    }

    /**
     * Waits until the loop has polled twice more. The mock consumer runs one scheduled task per poll, so a whole loop
     * iteration (poll, collect the finished requests, commit, pause or resume) ran in between.
     */
    private void awaitLoopIteration() throws InterruptedException {
        var polled = new CountDownLatch(1);
        consumer.schedulePollTask(() -> { });
        consumer.schedulePollTask(polled::countDown);
        assertThat(polled.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("the loop polled").isTrue();
    }

    private OffsetAndMetadata committed() {
        return consumer.committed(Set.of(PARTITION)).get(PARTITION);
    }

    private static List<String> sentRequestIds(MockProducer<byte[], byte[]> producer) {
        return producer.history().stream()
                .filter(record -> record.topic().equals(Topics.RESPONSES.name()))
                .map(record -> new String(record.key(), StandardCharsets.UTF_8))
                .toList();
    }
}
