package dev.backbone.bench;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;

/**
 * The physical baselines every Backbone figure is divided by: a raw producer's throughput and a raw producer → consumer
 * round trip on the same broker, with the same record size and producer settings as the front door.
 */
final class KafkaBaselines {

    private KafkaBaselines() {
    }

    /** Returns a ClientRequest like the front door writes, as JSON bytes, so baselines move the same bytes. */
    static byte[] sampleRequestBytes(int index) {
        var request = new ClientRequest(ClientRequest.SCHEMA_VERSION, UUID.randomUUID().toString(), "client-" + (index % 1000),
                "eu-west", "DE", "shop.example.com", "GET", "/products/" + (1 + index % 10_000), "",
                Map.of("accept", "*/*", "user-agent", "backbone-bench"), null, "ingest-1", 0,
                System.currentTimeMillis(), System.currentTimeMillis() + 10_000);
        return Topics.CLIENT_REQUESTS.valueSerde().serializer().serialize(Topics.CLIENT_REQUESTS.name(), request);
    }

    static void createTopic(String bootstrap, String name, int partitions) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
            dev.backbone.events.TopicAdmin.awaitLeaders(admin, List.of(name));
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topic " + name + ": " + e.getMessage(), e);
        }
    }

    static Map<String, Object> producerConfig(String bootstrap) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        return config;
    }

    /**
     * Produces {@code records} request-sized records as fast as the producer takes them and returns records per second
     * until the last one is acknowledged.
     */
    static double producerThroughput(String bootstrap, String topic, int records) throws InterruptedException {
        var done = new CountDownLatch(records);
        var failed = new AtomicLong();
        long startedAt;
        try (var producer = new KafkaProducer<>(producerConfig(bootstrap), new ByteArraySerializer(), new ByteArraySerializer())) {
            byte[][] values = new byte[1000][];
            for (int i = 0; i < values.length; i++) {
                values[i] = sampleRequestBytes(i);
            }
            primePartitions(producer, topic, values[0]);
            startedAt = System.nanoTime();
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, ("client-" + (i % 1000)).getBytes(), values[i % values.length]), (m, e) -> {
                    if (e != null) {
                        failed.incrementAndGet();
                    }
                    done.countDown();
                });
            }
            done.await();
        }
        if (failed.get() > 0) {
            throw new IllegalStateException(failed.get() + " baseline records failed");
        }
        return records / ((System.nanoTime() - startedAt) / 1e9);
    }

    /**
     * Sends one record to each partition and waits for its acknowledgement, outside the timed part. Right after a topic
     * is created, the broker can reject the first batches with NotLeaderOrFollowerException although the topic's
     * metadata already names a leader. An idempotent producer with batches in flight then got
     * OutOfOrderSequenceException for later batches (Kafka 4.3.2 client against the in-process broker).
     */
    private static void primePartitions(KafkaProducer<byte[], byte[]> producer, String topic, byte[] value) {
        for (var partition : producer.partitionsFor(topic)) {
            try {
                producer.send(new ProducerRecord<>(topic, partition.partition(), null, value)).get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("cannot write to " + topic + "-" + partition.partition() + ": " + e, e);
            }
        }
    }

    /**
     * Sends records at a fixed rate (open loop) and measures each one's producer → consumer latency from its intended
     * send time, in microseconds.
     */
    static Histogram roundTrip(String bootstrap, String topic, double ratePerSecond, Duration duration) throws InterruptedException {
        var histogram = new Histogram(3);
        long total = Math.round(ratePerSecond * duration.toNanos() / 1e9);
        var received = new AtomicLong();
        Map<String, Object> consumerConfig = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "bench-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
        try (var consumer = new KafkaConsumer<>(consumerConfig, new LongDeserializer(), new ByteArrayDeserializer());
             var producer = new KafkaProducer<>(producerConfig(bootstrap), new LongSerializer(), new ByteArraySerializer())) {
            consumer.subscribe(List.of(topic));
            while (consumer.assignment().isEmpty()) {
                consumer.poll(Duration.ofMillis(100));
            }
            consumer.seekToEnd(consumer.assignment());
            consumer.assignment().forEach(consumer::position);
            var consumerDone = new CountDownLatch(1);
            var polling = new Thread(() -> {
                long deadline = System.nanoTime() + duration.toNanos() + Duration.ofSeconds(30).toNanos();
                while (received.get() < total && System.nanoTime() < deadline) {
                    for (var record : consumer.poll(Duration.ofMillis(50))) {
                        long latencyMicros = (System.nanoTime() - record.key()) / 1_000;
                        synchronized (histogram) {
                            histogram.recordValue(Math.max(1, latencyMicros));
                        }
                        received.incrementAndGet();
                    }
                }
                consumerDone.countDown();
            }, "bench-round-trip-consumer");
            polling.start();
            byte[] value = sampleRequestBytes(0);
            long intervalNanos = (long) (1e9 / ratePerSecond);
            long startedAt = System.nanoTime();
            for (long i = 0; i < total; i++) {
                long intendedAt = startedAt + i * intervalNanos;
                for (long wait = intendedAt - System.nanoTime(); wait > 0; wait = intendedAt - System.nanoTime()) {
                    LockSupport.parkNanos(Math.min(wait, 1_000_000L));
                }
                producer.send(new ProducerRecord<>(topic, intendedAt, value));
            }
            producer.flush();
            consumerDone.await();
            polling.join();
        }
        if (received.get() < total) {
            throw new IllegalStateException("round trip lost records: received " + received.get() + " of " + total);
        }
        return histogram;
    }
}
