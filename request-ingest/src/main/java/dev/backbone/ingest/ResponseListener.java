package dev.backbone.ingest;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.DeadLetterPublisher;
import dev.backbone.events.JsonSerde;
import dev.backbone.events.Topics;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads this front door's reply partition of {@code backbone.responses} from its end and completes pending requests.
 * Runs on one thread of its own; {@link #close()} stops it and closes the consumer.
 */
final class ResponseListener implements Runnable, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ResponseListener.class);

    private final Consumer<byte[], byte[]> consumer;
    private final TopicPartition partition;
    private final PendingRequests pending;
    private final DeadLetterPublisher deadLetters;
    private static final byte[] UNAWAITED_PREFIX = ClientRequest.UNAWAITED_ID_PREFIX.getBytes(java.nio.charset.StandardCharsets.UTF_8);

    private final JsonSerde<ClientResponse> serde = Topics.jsonSerde(Topics.RESPONSES);
    private final CountDownLatch positioned = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean running = true;

    ResponseListener(Consumer<byte[], byte[]> consumer, int replyPartition, PendingRequests pending, DeadLetterPublisher deadLetters) {
        this.consumer = consumer;
        this.partition = new TopicPartition(Topics.RESPONSES.name(), replyPartition);
        this.pending = pending;
        this.deadLetters = deadLetters;
        this.thread = new Thread(this, "ingest-responses-" + replyPartition);
    }

    /** Starts the thread and waits until the consumer is positioned at the end of the partition. */
    void start(Duration timeout) throws InterruptedException {
        thread.start();
        if (!positioned.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("cannot position on " + partition + " within " + timeout.toMillis() + " ms; is Kafka reachable?");
        }
    }

    @Override
    public void run() {
        try {
            consumer.assign(List.of(partition));
            consumer.seekToEnd(List.of(partition));
            consumer.position(partition);
            positioned.countDown();
            log.info("Reading answers from {} at offset {}", partition, consumer.position(partition));
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    handle(record);
                }
            }
        } catch (WakeupException e) {
            if (running) {
                log.error("Response listener for {} woken up unexpectedly", partition, e);
            }
        } catch (RuntimeException e) {
            log.error("Response listener for {} failed; requests waiting on it will time out with 504", partition, e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
            stopped.countDown();
        }
    }

    private void handle(ConsumerRecord<byte[], byte[]> record) {
        if (isUnawaited(record.key())) {
            pending.countUnawaited();
            return;
        }
        ClientResponse response;
        try {
            response = serde.deserialize(record.topic(), record.value());
        } catch (RuntimeException e) {
            deadLetters.publish(record, e);
            return;
        }
        if (response == null) {
            deadLetters.publish(record, new IllegalArgumentException("null value on " + record.topic() + "; a ClientResponse is expected"));
            return;
        }
        pending.complete(response);
    }

    /** Returns whether a response's key is the id of a request that nobody waits for, such as one of a batch. */
    static boolean isUnawaited(byte[] key) {
        byte[] prefix = UNAWAITED_PREFIX;
        if (key == null || key.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (key[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        if (!running) {
            return;
        }
        running = false;
        consumer.wakeup();
        try {
            stopped.await(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
