package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.DeadLetter;
import dev.backbone.events.DnsRecord;
import dev.backbone.events.Heartbeat;
import dev.backbone.events.Settings;
import dev.backbone.events.Topic;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedStackExtension.class)
class RoutingServiceIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final List<Integer> ANNOUNCED_PARTITIONS = List.of(5, 9);

    private static KafkaProducer<byte[], byte[]> producer;
    private static RoutingService service;
    private static String bootstrapServers;

    @BeforeAll
    static void startRouting(EmbeddedKafka kafka) throws Exception {
        bootstrapServers = kafka.bootstrapServers();
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
        var record = new DnsRecord(DnsRecord.SCHEMA_VERSION, "shop.example.com", DnsRecord.GLOBAL, DnsRecord.Type.A,
                List.of("lb-1", "lb-2"), null, 0, 1);
        send(Topics.DNS_RECORDS, record.key(), record);
        var appServer = new Heartbeat(Heartbeat.SCHEMA_VERSION, "app-1", Heartbeat.Kind.APP_SERVER, "shop",
                Heartbeat.State.UP, ANNOUNCED_PARTITIONS, 1, 1, System.currentTimeMillis());
        send(Topics.LB_HEARTBEATS, "app-1", appServer);
        producer.flush();

        var config = RoutingConfig.from(Settings.of(Map.of(
                "bootstrap.servers", bootstrapServers,
                "application.id", "routing-service-it",
                "state.dir", Files.createTempDirectory("routing-service-it-").toString(),
                "commit.interval.ms", "50",
                "fetch.max.wait.ms", "20",
                "lb.heartbeat.interval.ms", "200",
                // The app server above sends one heartbeat only; it must stay alive for the whole test.
                "heartbeat.timeout.ms", "600000",
                "rest.port", "0")));
        service = RoutingService.start(config, new SimpleMeterRegistry());
        assertThat(service.awaitRunning(TIMEOUT)).as("routing streams running").isTrue();

        ReadOnlyKeyValueStore<String, Heartbeat> heartbeats = service.streams().store(StoreQueryParameters.fromNameAndType(
                RoutingTopology.HEARTBEATS_STORE, QueryableStoreTypes.keyValueStore()));
        await().atMost(TIMEOUT).until(() -> heartbeats.get("lb-1") != null && heartbeats.get("lb-2") != null
                && heartbeats.get("app-1") != null);
    }

    @AfterAll
    static void stopRouting() {
        if (service != null) {
            service.close();
            service.close();
        }
        if (producer != null) {
            producer.close();
        }
    }

    private static <V> void send(Topic<String, V> topic, String key, V value) throws Exception {
        byte[] bytes = topic.valueSerde().serializer().serialize(topic.name(), value);
        producer.send(new ProducerRecord<>(topic.name(), key.getBytes(StandardCharsets.UTF_8), bytes)).get();
    }

    private static ClientRequest request(String requestId, String host, int replyPartition) {
        long now = System.currentTimeMillis();
        return new ClientRequest(ClientRequest.SCHEMA_VERSION, requestId, "client-" + requestId, "eu-west", "DE", host,
                "GET", "/products/1", "", Map.of(), null, "ingest-it", replyPartition, now, now + 30_000);
    }

    /** Reads every partition of a topic from the beginning until {@code done} holds for the records read so far. */
    private static <V> List<ConsumerRecord<byte[], V>> readUntil(Topic<?, V> topic,
                                                                 java.util.function.Predicate<List<ConsumerRecord<byte[], V>>> done) {
        List<ConsumerRecord<byte[], V>> seen = new CopyOnWriteArrayList<>();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20), new ByteArrayDeserializer(), topic.valueSerde().deserializer())) {
            var partitions = consumer.partitionsFor(topic.name()).stream()
                    .map(info -> new TopicPartition(topic.name(), info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            await().atMost(TIMEOUT).until(() -> {
                consumer.poll(Duration.ofMillis(100)).forEach(seen::add);
                return done.test(seen);
            });
        }
        return seen;
    }

    @Test
    void requestIsRoutedToAnnouncedPartition() throws Exception {
        var request = request("it-routed-1", "Shop.Example.com", 0);
        send(Topics.CLIENT_REQUESTS, request.clientId(), request);

        var records = readUntil(Topics.ROUTED_REQUESTS,
                seen -> seen.stream().anyMatch(r -> r.value().request().requestId().equals(request.requestId())));
        var routed = records.stream().filter(r -> r.value().request().requestId().equals(request.requestId())).findFirst().orElseThrow();

        assertThat(routed.partition()).isIn(ANNOUNCED_PARTITIONS.toArray());
        assertThat(routed.value().serverId()).isEqualTo("app-1");
        assertThat(routed.value().loadBalancer()).isIn("lb-1", "lb-2");
        assertThat(routed.value().skippedAddresses()).isEmpty();
        assertThat(new String(routed.key(), StandardCharsets.UTF_8)).isEqualTo(request.clientId());
    }

    @Test
    void unknownHostAnswerGoesToReplyPartition() throws Exception {
        var request = request("it-unknown-1", "missing.example.com", 3);
        send(Topics.CLIENT_REQUESTS, request.clientId(), request);

        var records = readUntil(Topics.RESPONSES,
                seen -> seen.stream().anyMatch(r -> r.value().requestId().equals(request.requestId())));
        var response = records.stream().filter(r -> r.value().requestId().equals(request.requestId())).findFirst().orElseThrow();

        assertThat(response.partition()).isEqualTo(3);
        assertThat(response.value().status()).isEqualTo(404);
        assertThat(response.value().body()).contains("missing.example.com");
    }

    @Test
    void malformedRequestDeadLetteredThenRouting() throws Exception {
        byte[] key = "it-malformed-client".getBytes(StandardCharsets.UTF_8);
        producer.send(new ProducerRecord<>(Topics.CLIENT_REQUESTS.name(), key, "{oops".getBytes(StandardCharsets.UTF_8))).get();
        var next = request("it-after-malformed", "shop.example.com", 0);
        send(Topics.CLIENT_REQUESTS, next.clientId(), next);

        var letters = readUntil(Topics.DEAD_LETTERS, seen -> seen.stream().anyMatch(r -> isFor(r.value(), key)));
        DeadLetter letter = letters.stream().filter(r -> isFor(r.value(), key)).findFirst().orElseThrow().value();
        assertThat(letter.topic()).isEqualTo(Topics.CLIENT_REQUESTS.name());
        assertThat(letter.consumer()).isEqualTo("routing-service-it");
        assertThat(letter.error()).contains("invalid ClientRequest JSON");

        var routed = readUntil(Topics.ROUTED_REQUESTS,
                seen -> seen.stream().anyMatch(r -> r.value().request().requestId().equals(next.requestId())));
        assertThat(routed).isNotEmpty();
    }

    private static boolean isFor(DeadLetter letter, byte[] key) {
        return java.util.Base64.getEncoder().encodeToString(key).equals(letter.keyBase64());
    }
}
