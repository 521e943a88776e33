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
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
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
 * The consumer loop of {@code backbone.routed-requests}: hands each request to the worker pool as soon as it is read,
 * writes each response to the reply partition the request names, and commits a partition's offsets up to the first
 * request that is not finished: its response not yet acknowledged by Kafka, or its dead letter not yet handed to the
 * producer. The loop polls again while requests are in progress, so one slow request (a cache miss, a slow query)
 * does not hold back the requests read after it. Once {@code maxInProgress} requests are read and not committed,
 * the loop pauses its partitions until the oldest finish; one poll can go past the limit by its own record count.
 *
 * <p>A response send that fails with a retriable error rewinds its partition to that request, so the requests from
 * there on are handled again and some clients may get a second response with the same request id. When partitions
 * are revoked, the loop waits for their requests in progress and commits them before it lets go. Records that cannot be
 * read, and responses that fail for good, go to {@code backbone.dead-letters}. Runs on one thread;
 * {@link #stop()} may be called from any thread.
 */
final class RoutedRequestLoop implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(RoutedRequestLoop.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(500);
    /** How long a poll waits while the loop is paused because too many requests are in progress. */
    private static final Duration PAUSED_POLL_TIMEOUT = Duration.ofMillis(5);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
    /** How long a revocation or the stop waits for the requests in progress before it commits what finished. */
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(10);

    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final DeadLetterPublisher deadLetters;
    private final Function<ClientRequest, ClientResponse> handler;
    private final ExecutorService workers;
    private final String pool;
    private final Clock clock;
    private final Runnable onAssignmentChange;
    private final int maxInProgress;
    private final JsonSerde<RoutedRequest> requestSerde = Topics.jsonSerde(Topics.ROUTED_REQUESTS);
    private final JsonSerde<ClientResponse> responseSerde = Topics.jsonSerde(Topics.RESPONSES);
    private final AtomicReference<List<Integer>> assignedPartitions = new AtomicReference<>(List.of());
    private final LongAdder expired = new LongAdder();
    private final LongAdder otherPool = new LongAdder();
    private final RateLimitedWarning commitWarning;
    /** The requests read and not yet committed, by partition, in offset order. Used on the loop thread only. */
    private final Map<TopicPartition, ArrayDeque<InProgress>> inProgress = new HashMap<>();
    private boolean paused;
    private volatile boolean running = true;

    RoutedRequestLoop(Consumer<byte[], byte[]> consumer, Producer<byte[], byte[]> producer, DeadLetterPublisher deadLetters,
                      Function<ClientRequest, ClientResponse> handler, ExecutorService workers, String pool, Clock clock, Runnable onAssignmentChange,
                      int maxInProgress) {
        if (maxInProgress < 1) {
            throw new IllegalArgumentException("maxInProgress must be at least 1, was " + maxInProgress);
        }
        this.consumer = consumer;
        this.producer = producer;
        this.deadLetters = deadLetters;
        this.handler = handler;
        this.workers = workers;
        this.pool = pool;
        this.clock = clock;
        this.onAssignmentChange = onAssignmentChange;
        this.maxInProgress = maxInProgress;
        this.commitWarning = new RateLimitedWarning(log, clock, 10_000);
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(Topics.ROUTED_REQUESTS.name()), new AssignmentTracker());
            while (running) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(paused ? PAUSED_POLL_TIMEOUT : POLL_TIMEOUT);
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    start(record);
                }
                commitAsync(collectFinished());
                pauseOrResume();
            }
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
        } catch (RuntimeException e) {
            log.error("Request consumer stopped after an unexpected error; this server no longer handles requests", e);
            throw e;
        } finally {
            try {
                commitSync(drain(inProgress.keySet()));
            } finally {
                consumer.close(CLOSE_TIMEOUT);
                assignedPartitions.set(List.of());
                log.info("Request consumer closed");
            }
        }
    }

    /** Stops the loop: it waits for the requests in progress and commits them, then closes the consumer. */
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

    private void start(ConsumerRecord<byte[], byte[]> record) {
        var partition = new TopicPartition(record.topic(), record.partition());
        CompletableFuture<Boolean> answer = startAnswer(record);
        inProgress.computeIfAbsent(partition, p -> new ArrayDeque<>()).addLast(new InProgress(record.offset(), answer));
    }

    /**
     * Removes the finished requests at the head of each partition and returns the offsets to commit. A request whose
     * response must be sent again rewinds its partition to it, and the requests after it are handled again.
     */
    private Map<TopicPartition, OffsetAndMetadata> collectFinished() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (var entry : inProgress.entrySet()) {
            TopicPartition partition = entry.getKey();
            ArrayDeque<InProgress> queue = entry.getValue();
            while (!queue.isEmpty() && queue.peekFirst().isDone()) {
                InProgress head = queue.pollFirst();
                if (head.mustRetry()) {
                    queue.clear();
                    consumer.seek(partition, head.offset());
                    log.warn("Sending a response on {} failed with a retriable error; handling the requests from offset {} again",
                            partition, head.offset());
                    break;
                }
                offsets.put(partition, new OffsetAndMetadata(head.offset() + 1));
            }
        }
        inProgress.values().removeIf(ArrayDeque::isEmpty);
        return offsets;
    }

    /**
     * Waits up to {@link #DRAIN_TIMEOUT} for the requests in progress on {@code partitions}, stops tracking them,
     * and returns the offsets up to the first request that has not finished or must be sent again.
     */
    private Map<TopicPartition, OffsetAndMetadata> drain(Collection<TopicPartition> partitions) {
        long deadline = System.nanoTime() + DRAIN_TIMEOUT.toNanos();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition partition : List.copyOf(partitions)) {
            ArrayDeque<InProgress> queue = inProgress.remove(partition);
            if (queue == null) {
                continue;
            }
            for (InProgress request : queue) {
                if (!request.await(deadline) || request.mustRetry()) {
                    break;
                }
                offsets.put(partition, new OffsetAndMetadata(request.offset() + 1));
            }
        }
        return offsets;
    }

    /** Pauses every assigned partition while {@code maxInProgress} requests are read and not committed, else resumes. */
    private void pauseOrResume() {
        int inProgressCount = inProgress.values().stream().mapToInt(ArrayDeque::size).sum();
        if (inProgressCount >= maxInProgress) {
            // Every time, so that partitions assigned while paused are paused too.
            consumer.pause(consumer.assignment());
            paused = true;
        } else if (paused) {
            consumer.resume(consumer.paused());
            paused = false;
        }
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
        return CompletableFuture.supplyAsync(() -> withRoutingHeaders(handler.apply(request), routed), workers)
                .thenCompose(response -> send(request, response))
                .handle((ignored, error) -> error == null || finishFailed(record, unwrap(error)))
                .exceptionally(error -> {
                    // The dead letter could not even be handed to the producer: handle the request again.
                    log.error("Cannot dead-letter {}-{}@{}; handling it again: {}", record.topic(), record.partition(),
                            record.offset(), error.toString());
                    return false;
                });
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

    private void commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (offsets.isEmpty()) {
            return;
        }
        // Asynchronous, so the next poll does not wait for the broker. Every request up to these offsets is answered
        // or dead-lettered already, and a failed commit only means that the next owner handles those records again.
        consumer.commitAsync(offsets, (committed, error) -> {
            if (error != null) {
                commitWarning.warn("Cannot commit offsets {}; the next owner of those partitions handles the records again: {}",
                        offsets.keySet(), error.toString());
            }
        });
    }

    private void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (offsets.isEmpty()) {
            return;
        }
        try {
            try {
                consumer.commitSync(offsets, CLOSE_TIMEOUT);
            } catch (WakeupException e) {
                // stop() woke the consumer while the loop was not polling; a wakeup fires once, so commit again.
                consumer.commitSync(offsets, CLOSE_TIMEOUT);
            }
        } catch (RuntimeException e) {
            log.warn("Cannot commit offsets {}; the next owner of those partitions handles the records again: {}",
                    offsets.keySet(), e.toString());
        }
    }

    /**
     * A request read from {@code offset} and the future of its handling: {@code null} when no response is due,
     * otherwise a future that completes with {@code false} when the response must be sent again.
     */
    private record InProgress(long offset, CompletableFuture<Boolean> answer) {

        boolean isDone() {
            return answer == null || answer.isDone();
        }

        boolean mustRetry() {
            return answer != null && (answer.isCompletedExceptionally() || !answer.join());
        }

        /** Waits until the request finished or the deadline (a {@link System#nanoTime()} value) passed. */
        boolean await(long deadlineNanos) {
            if (isDone()) {
                return true;
            }
            try {
                answer.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
                return true;
            } catch (TimeoutException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (ExecutionException e) {
                // The handling futures complete normally, so an exception here is a bug, and the request stays uncommitted.
                return false;
            }
        }
    }

    /** Keeps {@link #assignedPartitions} current and announces every change. Runs on the consumer thread. */
    private final class AssignmentTracker implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // Commit what finished, so the next owner starts after it instead of handling it again.
            commitSync(drain(partitions));
            update(partitions, false);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            // Another member owns them already, and a commit would fail: stop tracking their requests in progress.
            partitions.forEach(inProgress::remove);
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
