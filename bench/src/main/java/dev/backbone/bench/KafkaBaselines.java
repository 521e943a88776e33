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
            subscribeAtEnd(consumer, topic);
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

    /** Subscribes to {@code topic}, waits for the assignment and positions the consumer at the end of each partition. */
    private static void subscribeAtEnd(KafkaConsumer<?, ?> consumer, String topic) {
        consumer.subscribe(List.of(topic));
        while (consumer.assignment().isEmpty()) {
            consumer.poll(Duration.ofMillis(100));
        }
        consumer.seekToEnd(consumer.assignment());
        consumer.assignment().forEach(consumer::position);
    }

    /**
     * A request path of raw Kafka with the shape of Backbone's. A client writes to the first of three topics, two
     * relays each pass every record on to the next topic as soon as they read it, and the client reads the third topic.
     * The relays have no logic and do not wait for acknowledgements before the next poll. Record size and producer
     * settings are the front door's, so the front door's figures can be read against what three hops cost alone.
     */
    static final class ThreeHops implements AutoCloseable {

        private final String bootstrap;
        private final String[] topics;
        private final List<Thread> relays = new java.util.ArrayList<>();
        private volatile boolean running = true;

        ThreeHops(String bootstrap, String prefix, int partitions) {
            this.bootstrap = bootstrap;
            this.topics = new String[]{prefix + "-1", prefix + "-2", prefix + "-3"};
            for (String topic : topics) {
                createTopic(bootstrap, topic, partitions);
            }
            for (int hop = 0; hop < 2; hop++) {
                var relay = new Thread(relay(topics[hop], topics[hop + 1]), "bench-relay-" + (hop + 1));
                relay.setDaemon(true);
                relays.add(relay);
                relay.start();
            }
        }

        private Runnable relay(String from, String to) {
            return () -> {
                Map<String, Object> config = Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                        ConsumerConfig.GROUP_ID_CONFIG, "bench-relay-" + from,
                        // A new topic: from the start, so that nothing sent before the assignment is missed.
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                        ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
                try (var consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
                     var producer = new KafkaProducer<>(producerConfig(bootstrap), new ByteArraySerializer(), new ByteArraySerializer())) {
                    consumer.subscribe(List.of(from));
                    while (running) {
                        for (var record : consumer.poll(Duration.ofMillis(100))) {
                            producer.send(new ProducerRecord<>(to, record.key(), record.value()));
                        }
                    }
                }
            };
        }

        /** Waits until a record sent now comes back, so that the relays own their partitions; gives up after 60 s. */
        void awaitReady() throws InterruptedException {
            Histogram probe = run(1, 1, 0, Duration.ofSeconds(60), new long[1]);
            if (probe.getTotalCount() == 0) {
                throw new IllegalStateException("the three-hop relays did not pass a record on within 60 s");
            }
        }

        /** Keeps {@code inFlight} records travelling until {@code count} came back; returns round trips per second. */
        double closedLoopRate(int count, int inFlight) throws InterruptedException {
            long[] startedAt = new long[1];
            Histogram latencies = run(count, inFlight, 0, Duration.ofMinutes(5), startedAt);
            long finishedAt = System.nanoTime();
            if (latencies.getTotalCount() < count) {
                throw new IllegalStateException("three-hop round trips lost records: " + latencies.getTotalCount() + " of " + count);
            }
            return count / ((finishedAt - startedAt[0]) / 1e9);
        }

        /** Sends at a fixed rate (open loop) for {@code duration}; returns each round trip from its intended send, in µs. */
        Histogram fixedRate(double ratePerSecond, Duration duration) throws InterruptedException {
            long total = Math.round(ratePerSecond * duration.toNanos() / 1e9);
            Histogram latencies = run(total, Integer.MAX_VALUE, (long) (1e9 / ratePerSecond), duration.plusSeconds(30), new long[1]);
            if (latencies.getTotalCount() < total) {
                throw new IllegalStateException("three-hop round trips lost records: " + latencies.getTotalCount() + " of " + total);
            }
            return latencies;
        }

        /**
         * Sends {@code total} records, at most {@code inFlight} at once, one every {@code intervalNanos} when that is
         * positive, and records each one's latency from its intended send time until it arrives from the third topic.
         * Puts the {@link System#nanoTime()} of the first send, after the reader's partitions are assigned, in
         * {@code startedAt[0]}.
         */
        private Histogram run(long total, int inFlight, long intervalNanos, Duration timeout, long[] startedAt)
                throws InterruptedException {
            var histogram = new Histogram(3);
            var permits = new java.util.concurrent.Semaphore(Math.min(inFlight, 1_000_000));
            var received = new AtomicLong();
            Map<String, Object> config = Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.GROUP_ID_CONFIG, "bench-" + UUID.randomUUID(),
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
                    ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
            try (var consumer = new KafkaConsumer<>(config, new LongDeserializer(), new ByteArrayDeserializer());
                 var producer = new KafkaProducer<>(producerConfig(bootstrap), new LongSerializer(), new ByteArraySerializer())) {
                subscribeAtEnd(consumer, topics[2]);
                var done = new CountDownLatch(1);
                long deadline = System.nanoTime() + timeout.toNanos();
                var reader = new Thread(() -> {
                    while (received.get() < total && System.nanoTime() < deadline) {
                        for (var record : consumer.poll(Duration.ofMillis(50))) {
                            histogram.recordValue(Math.max(1, (System.nanoTime() - record.key()) / 1_000));
                            received.incrementAndGet();
                            permits.release();
                        }
                    }
                    done.countDown();
                }, "bench-three-hops-reader");
                reader.start();
                byte[] value = sampleRequestBytes(0);
                startedAt[0] = System.nanoTime();
                for (long i = 0; i < total && System.nanoTime() < deadline; i++) {
                    long intendedAt = intervalNanos > 0 ? startedAt[0] + i * intervalNanos : 0;
                    for (long wait = intendedAt - System.nanoTime(); intervalNanos > 0 && wait > 0; wait = intendedAt - System.nanoTime()) {
                        LockSupport.parkNanos(Math.min(wait, 1_000_000L));
                    }
                    if (!permits.tryAcquire(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                        break;
                    }
                    producer.send(new ProducerRecord<>(topics[0], intervalNanos > 0 ? intendedAt : System.nanoTime(), value));
                }
                producer.flush();
                done.await();
                reader.join();
            }
            return histogram;
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            for (Thread relay : relays) {
                relay.join(10_000);
            }
        }
    }
}
