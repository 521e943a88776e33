package dev.backbone.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.appserver.AppServer;
import dev.backbone.events.Invalidation;
import dev.backbone.events.Json;
import dev.backbone.events.Topics;
import dev.backbone.launcher.LocalStack;
import dev.backbone.launcher.StackOptions;
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
import java.util.TreeMap;
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

    @Option(names = "--seconds", defaultValue = "30", description = "Seconds of measured updates (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--warmup-seconds", defaultValue = "10", description = "Seconds of updates at the same rate before "
            + "the measured ones, left out of the measured rows (default: ${DEFAULT-VALUE}).")
    int warmupSeconds;

    /** Lags of one run: every app server's evictions and every edge's purges, as copies of their histograms. */
    private record Lags(Histogram eviction, Map<String, Histogram> purgeByEdge) {

        static Lags of(LocalStack stack) {
            Histogram eviction = new Histogram(3);
            for (AppServer server : stack.appServers()) {
                eviction.add(server.stats().evictionLagMs());
            }
            Map<String, Histogram> purgeByEdge = new TreeMap<>();
            stack.edges().forEach((region, edge) -> purgeByEdge.put(region, edge.purgeLagHistogram()));
            return new Lags(eviction, purgeByEdge);
        }

        /** Returns the lags recorded after {@code earlier} was taken. */
        Lags since(Lags earlier) {
            Histogram evictionSince = eviction.copy();
            evictionSince.subtract(earlier.eviction);
            Map<String, Histogram> purgeSince = new TreeMap<>();
            purgeByEdge.forEach((region, histogram) -> {
                Histogram copy = histogram.copy();
                copy.subtract(earlier.purgeByEdge.get(region));
                purgeSince.put(region, copy);
            });
            return new Lags(evictionSince, purgeSince);
        }
    }

    public static void main(String[] args) {
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
        System.exit(new CommandLine(new InvalidationLagBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        System.out.printf("Invalidation lag benchmark: %d cores, %s, %.0f updates/s for %d s after a %d s warm-up%n",
                Runtime.getRuntime().availableProcessors(), LocalDate.now(), rate, seconds, warmupSeconds);
        try (LocalStack stack = LocalStack.start(StackOptions.ephemeral(2, 10_000, 100), step -> System.out.println("  " + step))) {
            long warmupUpdates = Math.round(rate * warmupSeconds);
            long measuredUpdates = Math.round(rate * seconds);
            var atWarmupEnd = new Lags[1];
            long[] measuredFromMs = new long[1];
            System.out.printf("  updating products: %,d warm-up updates, then %,d measured%n", warmupUpdates, measuredUpdates);
            runUpdates(stack.jdbcUrl(), warmupUpdates + measuredUpdates, warmupUpdates, () -> {
                atWarmupEnd[0] = Lags.of(stack);
                measuredFromMs[0] = System.currentTimeMillis();
            });
            awaitEvictions(stack, warmupUpdates + measuredUpdates);
            Lags whole = Lags.of(stack);
            Lags measured = atWarmupEnd[0] == null ? whole : whole.since(atWarmupEnd[0]);

            KafkaBaselines.createTopic(stack.bootstrapServers(), "bench.invalidation-round-trip", 1);
            Histogram kafka = KafkaBaselines.roundTrip(stack.bootstrapServers(), "bench.invalidation-round-trip", rate,
                    Duration.ofSeconds(Math.min(seconds, 20)));
            double kafkaP99Ms = kafka.getValueAtPercentile(99) / 1000.0;

            System.out.println();
            System.out.println("| measurement | p50 | p99 | samples | ratio |");
            System.out.println("|---|---|---|---|---|");
            printRow("commit → L1 eviction, every app server (" + stack.appServers().size() + " servers)",
                    measured.eviction(), String.format("p99 %.1f × raw Kafka p99 (target p99 ≤ 50 ms)",
                            measured.eviction().getValueAtPercentile(99) / kafkaP99Ms));
            measured.purgeByEdge().forEach((region, histogram) -> printRow("commit → purge applied at the " + region
                    + " edge", histogram, "window 100 ms (target p99 ≤ window + 50 ms)"));
            printStages(stack.bootstrapServers(), measuredFromMs[0]);
            System.out.printf("| raw Kafka round trip at %.0f records/s | %.1f ms | %.1f ms | %,d | baseline |%n", rate,
                    kafka.getValueAtPercentile(50) / 1000.0, kafkaP99Ms, kafka.getTotalCount());
            printRow("whole run with the warm-up: commit → L1 eviction", whole.eviction(), "");
            whole.purgeByEdge().forEach((region, histogram) -> printRow("whole run with the warm-up: commit → purge at the "
                    + region + " edge", histogram, ""));
        }
        return 0;
    }

    private static void printRow(String measurement, Histogram histogram, String ratio) {
        System.out.printf("| %s | %d ms | %d ms | %,d | %s |%n", measurement, histogram.getValueAtPercentile(50),
                histogram.getValueAtPercentile(99), histogram.getTotalCount(), ratio);
    }

    /**
     * Updates random products at the fixed rate (open loop) with autocommit, and runs {@code atWarmupEnd} once
     * {@code warmupUpdates} have committed.
     */
    private void runUpdates(String jdbcUrl, long total, long warmupUpdates, Runnable atWarmupEnd) throws Exception {
        var random = new SplittableRandom(5);
        try (Connection connection = DriverManager.getConnection(jdbcUrl);
             PreparedStatement update = connection.prepareStatement("UPDATE products SET price_cents = ? WHERE id = ?")) {
            long intervalNanos = (long) (1e9 / rate);
            long startedAt = System.nanoTime();
            for (long i = 0; i < total; i++) {
                if (i == warmupUpdates) {
                    atWarmupEnd.run();
                }
                long intendedAt = startedAt + i * intervalNanos;
                for (long wait = intendedAt - System.nanoTime(); wait > 0; wait = intendedAt - System.nanoTime()) {
                    LockSupport.parkNanos(Math.min(wait, 1_000_000L));
                }
                update.setLong(1, 100 + random.nextInt(100_000));
                update.setLong(2, 1 + random.nextInt(10_000));
                update.executeUpdate();
            }
        }
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
     * its invalidations by the invalidator. Only commits from {@code measuredFromMs} on count.
     */
    private static void printStages(String bootstrapServers, long measuredFromMs) {
        Map<String, Long> changeSentAt = new HashMap<>();
        Histogram commitToChange = new Histogram(3);
        Histogram changeToInvalidation = new Histogram(3);
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (var consumer = new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
            for (ConsumerRecord<String, String> record : readAll(consumer, Topics.DB_CHANGES.name())) {
                JsonNode source = Json.mapper().readTree(record.value()).path("source");
                long commitAtMs = source.path("ts_ms").asLong(-1);
                if (commitAtMs >= measuredFromMs && record.key() != null && record.key().startsWith("public.products:")) {
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
}
