package dev.backbone.appserver;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.DeadLetterPublisher;
import dev.backbone.events.JsonSerde;
import dev.backbone.events.RoutedRequest;
import dev.backbone.events.Topics;
import dev.backbone.storage.RateLimitedWarning;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer loop of {@code backbone.routed-requests}: reads a batch, hands each request to the worker pool, writes
 * each response to the reply partition the request names, and commits the batch once every response is acknowledged.
 *
 * <p>A response send that fails with a retriable error rewinds its partition to the start of the batch, so the batch
 * is handled again and some clients may get a second response with the same request id. Records that cannot be read,
 * and responses that fail for good, go to {@code backbone.dead-letters}. Runs on one thread;
 * {@link #stop()} may be called from any thread.
 */
final class RoutedRequestLoop implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(RoutedRequestLoop.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final DeadLetterPublisher deadLetters;
    private final RequestHandler handler;
    private final ExecutorService workers;
    private final String pool;
    private final Clock clock;
    private final Runnable onAssignmentChange;
    private final JsonSerde<RoutedRequest> requestSerde = Topics.jsonSerde(Topics.ROUTED_REQUESTS);
    private final JsonSerde<ClientResponse> responseSerde = Topics.jsonSerde(Topics.RESPONSES);
    private final AtomicReference<List<Integer>> assignedPartitions = new AtomicReference<>(List.of());
    private final LongAdder expired = new LongAdder();
    private final LongAdder otherPool = new LongAdder();
    private final RateLimitedWarning commitWarning;
    private volatile boolean running = true;

    RoutedRequestLoop(Consumer<byte[], byte[]> consumer, Producer<byte[], byte[]> producer, DeadLetterPublisher deadLetters,
                      RequestHandler handler, ExecutorService workers, String pool, Clock clock, Runnable onAssignmentChange) {
        this.consumer = consumer;
        this.producer = producer;
        this.deadLetters = deadLetters;
        this.handler = handler;
        this.workers = workers;
        this.pool = pool;
        this.clock = clock;
        this.onAssignmentChange = onAssignmentChange;
        this.commitWarning = new RateLimitedWarning(log, clock, 10_000);
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(Topics.ROUTED_REQUESTS.name()), new AssignmentTracker());
            while (running) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL_TIMEOUT);
                if (!records.isEmpty()) {
                    handleBatch(records);
                }
            }
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
        } catch (RuntimeException e) {
            log.error("Request consumer stopped after an unexpected error; this server no longer handles requests", e);
            throw e;
        } finally {
            consumer.close(CLOSE_TIMEOUT);
            assignedPartitions.set(List.of());
            log.info("Request consumer closed");
        }
    }

    /** Stops the loop: it finishes the batch at hand, then closes the consumer. */
    void stop() {
        running = false;
        consumer.wakeup();
    }

    /** Returns the partitions of {@code backbone.routed-requests} assigned now, in ascending order. */
    List<Integer> assignedPartitions() {
        return assignedPartitions.get();
    }

    /** Returns how many requests were skipped because their client deadline had passed. */
    long expiredRequests() {
        return expired.sum();
    }

    /** Returns how many requests were skipped because they were routed to another pool. */
    long otherPoolRequests() {
        return otherPool.sum();
    }

    private void handleBatch(ConsumerRecords<byte[], byte[]> records) {
        Map<TopicPartition, Long> firstOffsets = new HashMap<>();
        Map<TopicPartition, OffsetAndMetadata> nextOffsets = new HashMap<>();
        List<CompletableFuture<Boolean>> answers = new ArrayList<>();
        List<TopicPartition> answerPartitions = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            var partition = new TopicPartition(record.topic(), record.partition());
            firstOffsets.putIfAbsent(partition, record.offset());
            nextOffsets.put(partition, new OffsetAndMetadata(record.offset() + 1));
            CompletableFuture<Boolean> answer = startAnswer(record);
            if (answer != null) {
                answers.add(answer);
                answerPartitions.add(partition);
            }
        }

        var retry = new TreeSet<TopicPartition>(Comparator.comparingInt(TopicPartition::partition));
        for (int i = 0; i < answers.size(); i++) {
            if (!answers.get(i).join()) {
                retry.add(answerPartitions.get(i));
            }
        }
        if (!retry.isEmpty()) {
            for (TopicPartition partition : retry) {
                consumer.seek(partition, firstOffsets.get(partition));
                nextOffsets.remove(partition);
            }
            log.warn("Sending responses on partitions {} failed with a retriable error; handling those batches again", retry);
        }
        commit(nextOffsets);
    }

    /**
     * Reads one record and starts handling it on the worker pool. Returns {@code null} when no response is due,
     * otherwise a future that completes with {@code false} when the response must be sent again.
     */
    private CompletableFuture<Boolean> startAnswer(ConsumerRecord<byte[], byte[]> record) {
        RoutedRequest routed;
        try {
            routed = read(record);
        } catch (RuntimeException e) {
            deadLetters.publish(record, e);
            return null;
        }
        ClientRequest request = routed.request();
        if (routed.pool() != null && !routed.pool().isBlank() && !routed.pool().equals(pool)) {
            // Every pool's consumer group reads the whole topic, and the server of another pool responds to this one.
            otherPool.increment();
            return null;
        }
        if (request.deadlineAtMs() > 0 && clock.millis() > request.deadlineAtMs()) {
            // The front door has sent 504 already, so a late response would only be dropped.
            expired.increment();
            log.debug("Skipped expired request {} at {}-{}@{}", request.requestId(), record.topic(), record.partition(), record.offset());
            return null;
        }
        return CompletableFuture.supplyAsync(() -> withRoutingHeaders(handler.handle(request), routed), workers)
                .thenCompose(response -> send(request, response))
                .handle((ignored, error) -> error == null || finishFailed(record, unwrap(error)));
    }

    /**
     * Adds how the request was routed to its response, so that a client sees which DNS level answered and which load
     * balancer and app server it went through: {@code x-backbone-resolved-by}, {@code x-backbone-load-balancer}.
     */
    private static ClientResponse withRoutingHeaders(ClientResponse response, RoutedRequest routed) {
        var headers = new java.util.LinkedHashMap<String, String>();
        if (routed.resolvedBy() != null) {
            headers.put("x-backbone-resolved-by", routed.resolvedBy());
        }
        if (routed.loadBalancer() != null) {
            headers.put("x-backbone-load-balancer", routed.loadBalancer());
        }
        return headers.isEmpty() ? response : Responses.withHeaders(response, headers);
    }

    private RoutedRequest read(ConsumerRecord<byte[], byte[]> record) {
        RoutedRequest routed = requestSerde.deserialize(record.topic(), record.value());
        if (routed == null) {
            throw new IllegalArgumentException("record value is null; accepted: a RoutedRequest as JSON");
        }
        int replyPartitions = producer.partitionsFor(Topics.RESPONSES.name()).size();
        int replyPartition = routed.request().replyPartition();
        if (replyPartition >= replyPartitions) {
            throw new IllegalArgumentException("replyPartition " + replyPartition + " does not exist; "
                    + Topics.RESPONSES.name() + " has partitions 0 to " + (replyPartitions - 1));
        }
        return routed;
    }

    private CompletableFuture<Void> send(ClientRequest request, ClientResponse response) {
        var acknowledged = new CompletableFuture<Void>();
        try {
            byte[] key = Topics.RESPONSES.keySerde().serializer().serialize(Topics.RESPONSES.name(), request.requestId());
            byte[] value = responseSerde.serialize(Topics.RESPONSES.name(), response);
            producer.send(new ProducerRecord<>(Topics.RESPONSES.name(), request.replyPartition(), key, value),
                    (metadata, error) -> {
                        if (error == null) {
                            acknowledged.complete(null);
                        } else {
                            acknowledged.completeExceptionally(error);
                        }
                    });
        } catch (RuntimeException e) {
            acknowledged.completeExceptionally(e);
        }
        return acknowledged;
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }

    /**
     * Returns {@code false} for a retriable failure, so the batch is handled again. Dead-letters the record after any
     * other failure and returns {@code true}: the record is done.
     */
    private boolean finishFailed(ConsumerRecord<byte[], byte[]> record, Throwable error) {
        if (error instanceof RetriableException) {
            return false;
        }
        deadLetters.publish(record, error instanceof Exception exception ? exception : new IllegalStateException(error));
        return true;
    }

    private void commit(Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (offsets.isEmpty()) {
            return;
        }
        // Asynchronous, so the next poll does not wait for the broker: every response of the batch is acknowledged
        // already, and a commit that fails only means that the next owner of a partition handles those records again.
        consumer.commitAsync(offsets, (committed, error) -> {
            if (error != null) {
                commitWarning.warn("Cannot commit offsets {}; the next owner of those partitions handles the records again: {}",
                        offsets.keySet(), error.toString());
            }
        });
    }

    /** Keeps {@link #assignedPartitions} current and announces every change. Runs on the consumer thread. */
    private final class AssignmentTracker implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            update(partitions, false);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            update(partitions, false);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            update(partitions, true);
        }

        private void update(Collection<TopicPartition> changed, boolean assigned) {
            if (changed.isEmpty()) {
                return;
            }
            var now = new TreeSet<>(assignedPartitions.get());
            for (TopicPartition partition : changed) {
                if (assigned) {
                    now.add(partition.partition());
                } else {
                    now.remove(partition.partition());
                }
            }
            assignedPartitions.set(List.copyOf(now));
            log.info("Assigned partitions of {} changed to {}", Topics.ROUTED_REQUESTS.name(), now);
            onAssignmentChange.run();
        }
    }
}
