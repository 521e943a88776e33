package dev.backbone.launcher;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Produces workload requests as {@link ClientRequest} events straight to {@code backbone.client-requests}, for users
 * who bypass HTTP. Nobody awaits the answers: they go to {@code replyPartition} of {@code backbone.responses}, and a
 * send completes with 202 once Kafka acknowledged the event.
 */
final class KafkaRequestSender implements RequestSender {

    private final KafkaProducer<String, ClientRequest> producer;
    private final int replyPartition;
    private final long responseTimeoutMs;

    KafkaRequestSender(String bootstrapServers, int replyPartition, long responseTimeoutMs) {
        this.producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.CLIENT_ID_CONFIG, "backbone-load",
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 1),
                new StringSerializer(), Topics.CLIENT_REQUESTS.valueSerde().serializer());
        this.replyPartition = replyPartition;
        this.responseTimeoutMs = responseTimeoutMs;
    }

    @Override
    public CompletableFuture<Integer> send(Request request) {
        long now = System.currentTimeMillis();
        int queryAt = request.path().indexOf('?');
        String path = queryAt < 0 ? request.path() : request.path().substring(0, queryAt);
        String query = queryAt < 0 ? "" : request.path().substring(queryAt + 1);
        var event = new ClientRequest(ClientRequest.SCHEMA_VERSION, ClientRequest.UNAWAITED_ID_PREFIX + UUID.randomUUID(), request.clientId(),
                request.region(), request.country(), request.host(), request.method(), path, query,
                request.body() == null ? Map.of() : Map.of("content-type", "application/json"), request.body(),
                "backbone-load", replyPartition, now, now + responseTimeoutMs);
        var result = new CompletableFuture<Integer>();
        producer.send(new ProducerRecord<>(Topics.CLIENT_REQUESTS.name(), event.clientId(), event), (metadata, error) -> {
            if (error != null) {
                result.completeExceptionally(error);
            } else {
                result.complete(202);
            }
        });
        return result;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
