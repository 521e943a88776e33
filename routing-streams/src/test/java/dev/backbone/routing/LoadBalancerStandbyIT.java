package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.DnsRecord;
import dev.backbone.events.Heartbeat;
import dev.backbone.events.Json;
import dev.backbone.events.RoutedRequest;
import dev.backbone.events.Settings;
import dev.backbone.events.Topic;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An active and a standby routing instance of one application front the load-balancer address lb-1. The active one
 * stops in the middle of a steady stream of requests. The standby takes the address over before it times out, and
 * Kafka hands the active's partitions to the standby, so every request is routed and none is rejected.
 */
@ExtendWith(EmbeddedStackExtension.class)
class LoadBalancerStandbyIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String SITE = "shop.standby-it.example";
    private static final String APPLICATION_ID = "routing-standby-it";
    private static final int REQUESTS = 120;
    private static final int STOP_ACTIVE_AFTER = 40;
    private static final long REQUEST_INTERVAL_MS = 50;

    private final List<AutoCloseable> started = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private KafkaProducer<byte[], byte[]> producer;

    @AfterEach
    void stopAll() throws Exception {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).close();
        }
    }

    private RoutingService startRouting(String bootstrapServers, String role) throws Exception {
        var settings = new HashMap<String, String>();
        settings.put("bootstrap.servers", bootstrapServers);
        settings.put("application.id", APPLICATION_ID);
        settings.put("state.dir", Files.createTempDirectory("routing-standby-it-" + role + "-").toString());
        settings.put("commit.interval.ms", "50");
        settings.put("fetch.max.wait.ms", "20");
        settings.put("lb.addresses", "lb-1");
        settings.put("lb.role", role);
        settings.put("lb.heartbeat.interval.ms", "200");
        settings.put("lb.standby.takeover.ms", "800");
        settings.put("heartbeat.timeout.ms", "2000");
        settings.put("heartbeat.check.interval.ms", "100");
        settings.put("rest.port", "0");
        var service = RoutingService.start(RoutingConfig.from(Settings.of(settings)), new SimpleMeterRegistry());
        started.add(service);
        return service;
    }

    private <V> void send(Topic<String, V> topic, String key, V value) {
        byte[] bytes = topic.valueSerde().serializer().serialize(topic.name(), value);
        producer.send(new ProducerRecord<>(topic.name(), key.getBytes(StandardCharsets.UTF_8), bytes));
    }

    private void appServerHeartbeat() {
        var heartbeat = new Heartbeat(Heartbeat.SCHEMA_VERSION, "app-1", Heartbeat.Kind.APP_SERVER, "shop",
                Heartbeat.State.UP, List.of(0, 1, 2), 1, System.currentTimeMillis(), System.currentTimeMillis());
        send(Topics.LB_HEARTBEATS, "app-1", heartbeat);
    }

    private ClientRequest request(int index) {
        long now = System.currentTimeMillis();
        return new ClientRequest(ClientRequest.SCHEMA_VERSION, "standby-it-" + index, "client-" + (index % 17), "eu-west",
                "DE", SITE, "GET", "/products/" + index, "", Map.of(), null, "ingest-it", 0, now, now + 60_000);
    }

    private JsonNode member(RoutingService service, String serverId) throws Exception {
        var response = http.send(HttpRequest.newBuilder(service.restUri().resolve("/api/lb/pools/shop")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            return null;
        }
        for (JsonNode member : Json.mapper().readTree(response.body()).get("members")) {
            if (member.get("serverId").asText().equals(serverId)) {
                return member;
            }
        }
        return null;
    }

    private String stateOf(RoutingService service, String serverId) throws Exception {
        JsonNode member = member(service, serverId);
        return member == null ? "" : member.get("state").asText();
    }

    @Test
    void standbyTakesOverWithoutLosingRequests(EmbeddedKafka kafka) throws Exception {
        String bootstrap = kafka.bootstrapServers();
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, 0),
                new ByteArraySerializer(), new ByteArraySerializer());
        started.add(producer);
        var record = new DnsRecord(DnsRecord.SCHEMA_VERSION, SITE, DnsRecord.GLOBAL, DnsRecord.Type.A, List.of("lb-1"),
                null, 0, 1);
        send(Topics.DNS_RECORDS, record.key(), record);
        ScheduledExecutorService appServer = Executors.newSingleThreadScheduledExecutor();
        started.add(appServer::shutdownNow);
        appServer.scheduleAtFixedRate(this::appServerHeartbeat, 0, 200, TimeUnit.MILLISECONDS);

        RoutingService active = startRouting(bootstrap, "active");
        RoutingService standby = startRouting(bootstrap, "standby");
        assertThat(active.awaitRunning(TIMEOUT)).as("active running").isTrue();
        assertThat(standby.awaitRunning(TIMEOUT)).as("standby running").isTrue();
        await().atMost(TIMEOUT).until(() -> stateOf(standby, "lb-1").equals("UP")
                && stateOf(standby, "lb-1#standby").equals("UP") && stateOf(standby, "app-1").equals("UP"));
        long lb1UpSince = member(standby, "lb-1").get("stateSinceMs").asLong();
        assertThat(standby.heartbeatedAddresses()).as("the standby waits").isEmpty();

        // A steady stream paced by a scheduler; the active stops in the middle and takes seconds to close.
        Set<String> sent = ConcurrentHashMap.newKeySet();
        var sender = Executors.newScheduledThreadPool(1);
        started.add(sender::shutdownNow);
        var stopper = new Thread(active::close, "close-active");
        var next = new AtomicInteger();
        sender.scheduleAtFixedRate(() -> {
            int index = next.getAndIncrement();
            if (index >= REQUESTS) {
                return;
            }
            var request = request(index);
            send(Topics.CLIENT_REQUESTS, request.clientId(), request);
            sent.add(request.requestId());
            if (index == STOP_ACTIVE_AFTER) {
                stopper.start();
            }
        }, 0, REQUEST_INTERVAL_MS, TimeUnit.MILLISECONDS);
        await().atMost(TIMEOUT).until(() -> sent.size() == REQUESTS);
        producer.flush();
        stopper.join(TIMEOUT.toMillis());

        Map<String, Integer> routedTimes = new HashMap<>();
        List<ClientResponse> rejected = new ArrayList<>();
        readUntil(bootstrap, () -> routedTimes.keySet().containsAll(sent), routedTimes, rejected, sent);

        System.out.printf("standby IT: %d requests sent, %d routed, %d routed more than once, %d rejected%n",
                sent.size(), routedTimes.size(), routedTimes.values().stream().filter(times -> times > 1).count(),
                rejected.size());
        assertThat(rejected).as("no request rejected, so lb-1 never looked dead").isEmpty();
        assertThat(routedTimes.keySet()).as("every request routed").containsAll(sent);
        assertThat(standby.heartbeatedAddresses()).containsExactly("lb-1");
        JsonNode lb1 = member(standby, "lb-1");
        assertThat(lb1.get("state").asText()).isEqualTo("UP");
        assertThat(lb1.get("stateSinceMs").asLong()).as("lb-1 stayed UP through the takeover").isEqualTo(lb1UpSince);
    }

    /** Reads routed requests and responses until {@code done}; bounded by {@link #TIMEOUT}. */
    private void readUntil(String bootstrap, java.util.function.BooleanSupplier done, Map<String, Integer> routedTimes,
                           List<ClientResponse> rejected, Set<String> sent) {
        var routedSerde = Topics.ROUTED_REQUESTS.valueSerde().deserializer();
        var responseSerde = Topics.RESPONSES.valueSerde().deserializer();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            var partitions = new ArrayList<TopicPartition>();
            for (String topic : List.of(Topics.ROUTED_REQUESTS.name(), Topics.RESPONSES.name())) {
                consumer.partitionsFor(topic).forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            await().atMost(TIMEOUT).until(() -> {
                for (var record : consumer.poll(Duration.ofMillis(100))) {
                    if (record.topic().equals(Topics.ROUTED_REQUESTS.name())) {
                        RoutedRequest routed = routedSerde.deserialize(record.topic(), record.value());
                        routedTimes.merge(routed.request().requestId(), 1, Integer::sum);
                    } else {
                        ClientResponse response = responseSerde.deserialize(record.topic(), record.value());
                        if (sent.contains(response.requestId())) {
                            rejected.add(response);
                        }
                    }
                }
                return done.getAsBoolean();
            });
        }
    }
}
