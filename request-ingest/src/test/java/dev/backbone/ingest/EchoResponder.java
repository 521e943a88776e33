package dev.backbone.ingest;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.Json;
import dev.backbone.events.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Stands in for the routing layer and the app servers in front-door tests: on a thread of its own it answers every
 * request on {@code backbone.client-requests} with 200 and a JSON copy of the request, on the request's reply partition.
 */
final class EchoResponder implements AutoCloseable {

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    EchoResponder(String bootstrapServers) {
        thread = new Thread(() -> run(bootstrapServers), "echo-responder");
        thread.start();
    }

    private void run(String bootstrapServers) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.GROUP_ID_CONFIG, "echo-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50), new StringDeserializer(), Topics.CLIENT_REQUESTS.valueSerde().deserializer());
             var producer = new KafkaProducer<>(Map.<String, Object>of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers, ProducerConfig.ACKS_CONFIG, "all"),
                     new StringSerializer(), Topics.RESPONSES.valueSerde().serializer())) {
            consumer.subscribe(List.of(Topics.CLIENT_REQUESTS.name()));
            while (running.get()) {
                for (var record : consumer.poll(Duration.ofMillis(100))) {
                    ClientRequest request = record.value();
                    var body = Json.mapper().valueToTree(request).toString();
                    var response = new ClientResponse(ClientResponse.SCHEMA_VERSION, request.requestId(), 200,
                            Map.of("content-type", "application/json"), body, "echo", System.currentTimeMillis());
                    producer.send(new ProducerRecord<>(Topics.RESPONSES.name(), request.replyPartition(), request.requestId(), response));
                }
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join(10_000);
    }
}
