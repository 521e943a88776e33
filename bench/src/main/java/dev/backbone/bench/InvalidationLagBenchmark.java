package dev.backbone.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.appserver.AppServer;
import dev.backbone.events.Invalidation;
import dev.backbone.events.Json;
import dev.backbone.events.Topics;
import dev.backbone.launcher.LocalStack;
import dev.backbone.launcher.StackOptions;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Measures how long a committed database update takes to evict the cached row in every app server and to purge it at
 * every CDN edge, at a fixed update rate on the one-JVM stack. A raw Kafka round trip at the same rate on the same
 * broker is the baseline.
 */
@Command(name = "InvalidationLagBenchmark", mixinStandardHelpOptions = true,
        description = "Commit-to-L1-eviction and commit-to-edge-purge lag at a fixed update rate, with a raw Kafka baseline.")
public final class InvalidationLagBenchmark implements Callable<Integer> {

    @Option(names = "--rate", defaultValue = "100", description = "Updates per second (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--seconds", defaultValue = "30", description = "Seconds of updates (default: ${DEFAULT-VALUE}).")
    int seconds;

    public static void main(String[] args) {
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
        System.exit(new CommandLine(new InvalidationLagBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        System.out.printf("Invalidation lag benchmark: %d cores, %s, %.0f updates/s for %d s%n",
                Runtime.getRuntime().availableProcessors(), LocalDate.now(), rate, seconds);
        try (LocalStack stack = LocalStack.start(StackOptions.ephemeral(2, 10_000, 100), step -> System.out.println("  " + step))) {
            long updates = runUpdates(stack.jdbcUrl());
            awaitEvictions(stack, updates);

            Histogram eviction = new Histogram(3);
            for (AppServer server : stack.appServers()) {
                eviction.add(server.stats().evictionLagMs());
            }
            KafkaBaselines.createTopic(stack.bootstrapServers(), "bench.invalidation-round-trip", 1);
            Histogram kafka = KafkaBaselines.roundTrip(stack.bootstrapServers(), "bench.invalidation-round-trip", rate,
                    Duration.ofSeconds(Math.min(seconds, 20)));

            System.out.println();
            System.out.println("| measurement | p50 | p99 | samples | ratio |");
            System.out.println("|---|---|---|---|---|");
            System.out.printf("| commit → L1 eviction, every app server (%d servers) | %d ms | %d ms | %,d | p99 %.1f × raw Kafka p99 (target p99 ≤ 50 ms) |%n",
                    stack.appServers().size(), eviction.getValueAtPercentile(50), eviction.getValueAtPercentile(99),
                    eviction.getTotalCount(), eviction.getValueAtPercentile(99) / (kafka.getValueAtPercentile(99) / 1000.0));
            stack.registries().forEach((component, registry) -> {
                if (component.equals("cache-invalidator")) {
                    for (String stage : List.of("backbone.invalidator.capture.lag", "backbone.invalidator.publish.lag",
                            "backbone.invalidator.purge.lag")) {
                        Timer timer = registry.find(stage).timer();
                        if (timer != null) {
                            System.out.printf("| stage: %s | %s | %s | %,d | |%n", stage, percentile(timer, 0.5),
                                    percentile(timer, 0.99), timer.count());
                        }
                    }
                }
                if (component.startsWith("cdn-edge")) {
                    Timer timer = registry.find("backbone.edge.purge.lag").timer();
                    if (timer != null) {
                        System.out.printf("| commit → purge applied at %s | %s | %s | %,d | window 100 ms (target p99 ≤ window + 50 ms) |%n",
                                component, percentile(timer, 0.5), percentile(timer, 0.99), timer.count());
                    }
                }
            });
            printStages(stack.bootstrapServers());
            System.out.printf("| raw Kafka round trip at %.0f records/s | %.1f ms | %.1f ms | %,d | baseline |%n", rate,
                    kafka.getValueAtPercentile(50) / 1000.0, kafka.getValueAtPercentile(99) / 1000.0, kafka.getTotalCount());
        }
        return 0;
    }

    /** Updates random products at the fixed rate (open loop) with autocommit, and returns how many it committed. */
    private long runUpdates(String jdbcUrl) throws Exception {
        long total = Math.round(rate * seconds);
        var random = new SplittableRandom(5);
        try (Connection connection = DriverManager.getConnection(jdbcUrl);
             PreparedStatement update = connection.prepareStatement("UPDATE products SET price_cents = ? WHERE id = ?")) {
            long intervalNanos = (long) (1e9 / rate);
            long startedAt = System.nanoTime();
            for (long i = 0; i < total; i++) {
                long intendedAt = startedAt + i * intervalNanos;
                for (long wait = intendedAt - System.nanoTime(); wait > 0; wait = intendedAt - System.nanoTime()) {
                    LockSupport.parkNanos(Math.min(wait, 1_000_000L));
                }
                update.setLong(1, 100 + random.nextInt(100_000));
                update.setLong(2, 1 + random.nextInt(10_000));
                update.executeUpdate();
            }
        }
        return total;
    }

    private static void awaitEvictions(LocalStack stack, long updates) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            boolean complete = stack.appServers().stream().allMatch(server -> server.stats().evictionLagMs().getTotalCount() >= updates);
            if (complete) {
                return;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
        System.out.println("  note: not every update was evicted within 30 s; the figures cover those that were");
    }

    /**
     * Prints where the time goes, from the record timestamps (the producers' send times) on the two topics between
     * PostgreSQL and the app servers: commit to the change event's send by the capture, and from there to the send of
     * its invalidations by the invalidator.
     */
    private static void printStages(String bootstrapServers) {
        Map<String, Long> changeSentAt = new HashMap<>();
        Histogram commitToChange = new Histogram(3);
        Histogram changeToInvalidation = new Histogram(3);
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (var consumer = new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
            for (ConsumerRecord<String, String> record : readAll(consumer, Topics.DB_CHANGES.name())) {
                JsonNode source = Json.mapper().readTree(record.value()).path("source");
                long commitAtMs = source.path("ts_ms").asLong(-1);
                if (commitAtMs > 0 && record.key() != null && record.key().startsWith("public.products:")) {
                    commitToChange.recordValue(Math.max(0, record.timestamp() - commitAtMs));
                    changeSentAt.put("product:" + record.key().substring("public.products:".length()) + "@" + commitAtMs,
                            record.timestamp());
                }
            }
            for (ConsumerRecord<String, String> record : readAll(consumer, Topics.CACHE_INVALIDATIONS.name())) {
                Invalidation invalidation = Json.mapper().readValue(record.value(), Invalidation.class);
                Long sentAt = changeSentAt.get(invalidation.cacheKey() + "@" + invalidation.commitAtMs());
                if (sentAt != null) {
                    changeToInvalidation.recordValue(Math.max(0, record.timestamp() - sentAt));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.printf("| stage: commit → change event sent by the capture | %d ms | %d ms | %,d | |%n",
                commitToChange.getValueAtPercentile(50), commitToChange.getValueAtPercentile(99), commitToChange.getTotalCount());
        System.out.printf("| stage: change event sent → its invalidation sent by the invalidator | %d ms | %d ms | %,d | |%n",
                changeToInvalidation.getValueAtPercentile(50), changeToInvalidation.getValueAtPercentile(99),
                changeToInvalidation.getTotalCount());
    }

    private static List<ConsumerRecord<String, String>> readAll(KafkaConsumer<String, String> consumer, String topic) {
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(info -> new TopicPartition(topic, info.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (partitions.stream().anyMatch(partition -> consumer.position(partition) < end.get(partition))
                && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        }
        return records;
    }

    private static String percentile(Timer timer, double percentile) {
        for (ValueAtPercentile value : timer.takeSnapshot().percentileValues()) {
            if (Math.abs(value.percentile() - percentile) < 1e-9) {
                return String.format("%.0f ms", value.value(TimeUnit.MILLISECONDS));
            }
        }
        return "n/a";
    }
}
