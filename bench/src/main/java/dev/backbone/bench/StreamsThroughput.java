package dev.backbone.bench;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.RoutedRequest;
import dev.backbone.events.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/** Measures how fast a Kafka Streams application drains a preloaded input topic into its output topic. */
final class StreamsThroughput {

    private StreamsThroughput() {
    }

    /**
     * Builds the baseline topology, which reads ClientRequests, wraps each in a RoutedRequest without any DNS or
     * load-balancing work, and writes it. Same serdes and record sizes as the routing topology, so the difference is Backbone's logic.
     */
    static Topology passThrough(String outputTopic) {
        var builder = new StreamsBuilder();
        builder.stream(Topics.CLIENT_REQUESTS.name(), Consumed.with(Serdes.String(), Topics.CLIENT_REQUESTS.valueSerde()).withName("bench-source"))
                .mapValues((ClientRequest request) -> new RoutedRequest(RoutedRequest.SCHEMA_VERSION, request, "global", "lb-1",
                        List.of(), "shop", "app-1", request.clientId(), false, System.currentTimeMillis()))
                .to(outputTopic, Produced.with(Serdes.String(), Topics.ROUTED_REQUESTS.valueSerde()).withName("bench-sink"));
        return builder.build();
    }

    /**
     * Returns records per second from the moment the application reached RUNNING until {@code expected} outputs arrived,
     * counting only records written after the call.
     */
    static double drain(String bootstrap, KafkaStreamsStarter starter, String outputTopic, long expected, Duration timeout) {
        Map<String, Object> consumerConfig = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        try (var consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            // Counts only what this run writes: the output topic may hold the records of an earlier run.
            List<TopicPartition> partitions = consumer.partitionsFor(outputTopic).stream()
                    .map(info -> new TopicPartition(outputTopic, info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);
            long[] runningAt = {0};
            AutoCloseable app = starter.start(() -> runningAt[0] = System.nanoTime());
            try (app) {
                long count = 0;
                long deadline = System.nanoTime() + timeout.toNanos();
                while (count < expected && System.nanoTime() < deadline) {
                    count += consumer.poll(Duration.ofMillis(100)).count();
                }
                long finishedAt = System.nanoTime();
                if (count < expected) {
                    throw new IllegalStateException("only " + count + " of " + expected + " records reached " + outputTopic
                            + " within " + timeout.toSeconds() + " s");
                }
                if (runningAt[0] == 0) {
                    throw new IllegalStateException("the application never reported RUNNING");
                }
                return expected / ((finishedAt - runningAt[0]) / 1e9);
            } catch (IllegalStateException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("cannot stop the application: " + e.getMessage(), e);
            }
        }
    }

    /** Starts a Streams application and calls {@code onRunning} when it reaches RUNNING. */
    interface KafkaStreamsStarter {
        AutoCloseable start(Runnable onRunning);
    }

    static KafkaStreamsStarter plain(Topology topology, Properties props) {
        return onRunning -> {
            var streams = new KafkaStreams(topology, props);
            streams.setStateListener((next, previous) -> {
                if (next == KafkaStreams.State.RUNNING) {
                    onRunning.run();
                }
            });
            streams.start();
            return () -> streams.close(Duration.ofSeconds(30));
        };
    }

    /** Copies Streams properties with another application id and state directory. */
    static Properties withApplicationId(Properties base, String applicationId, String stateDir) {
        var props = new Properties();
        props.putAll(base);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        return props;
    }
}
