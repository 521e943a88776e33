package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.DnsRecord;
import dev.backbone.events.Heartbeat;
import dev.backbone.events.Json;
import dev.backbone.events.Settings;
import dev.backbone.events.Topic;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two routing instances of one application in one JVM, each with its own state directory and REST port. Every
 * client's resolve query and every request's trace query return the same result through both instances, the load
 * query sums the counts of both, and after one instance closes, every query keeps working through the other.
 */
@ExtendWith(EmbeddedStackExtension.class)
class RoutingMultiInstanceIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final String APPLICATION_ID = "routing-multi-instance-it";
    private static final String SITE = "shop.multi-it.example";
    private static final String POOL = "multi";
    private static final String LB_ADDRESS = "lb-multi";
    private static final String APP_SERVER = "multi-app-1";
    private static final int CLIENTS = 24;

    private final List<AutoCloseable> started = new ArrayList<>();
    private final Map<RoutingService, SimpleMeterRegistry> registries = new HashMap<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private KafkaProducer<byte[], byte[]> producer;

    @AfterEach
    void stopAll() throws Exception {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).close();
        }
    }

    @Test
    void queriesAgreeAndSurviveStop(EmbeddedKafka kafka) throws Exception {
        String bootstrap = kafka.bootstrapServers();
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
        started.add(producer);
        var record = new DnsRecord(DnsRecord.SCHEMA_VERSION, SITE, DnsRecord.GLOBAL, DnsRecord.Type.A,
                List.of(LB_ADDRESS), null, 300, 1);
        send(Topics.DNS_RECORDS, record.key(), record);
        // One heartbeat only, so the app server stays UP through the long heartbeat timeout below.
        var appServer = new Heartbeat(Heartbeat.SCHEMA_VERSION, APP_SERVER, Heartbeat.Kind.APP_SERVER, POOL,
                Heartbeat.State.UP, List.of(0, 1, 2), 1, 1, System.currentTimeMillis());
        send(Topics.LB_HEARTBEATS, APP_SERVER, appServer);
        producer.flush();

        RoutingService first = startRouting(bootstrap, "first");
        RoutingService second = startRouting(bootstrap, "second");
        assertThat(first.awaitRunning(TIMEOUT)).as("first instance running").isTrue();
        assertThat(second.awaitRunning(TIMEOUT)).as("second instance running").isTrue();
        await().atMost(TIMEOUT).until(() -> bothOwnPartitions(first) && bothOwnPartitions(second));

        List<String> clients = new ArrayList<>();
        Set<String> requestIds = new HashSet<>();
        Map<String, String> requestIdOf = new HashMap<>();
        for (int i = 0; i < CLIENTS; i++) {
            String client = "multi-client-" + i;
            clients.add(client);
            ClientRequest request = request("multi-it-" + i, client);
            requestIds.add(request.requestId());
            requestIdOf.put(client, request.requestId());
            send(Topics.CLIENT_REQUESTS, client, request);
        }
        producer.flush();
        awaitRouted(bootstrap, requestIds);

        // Every client's cache entry lives on one instance; the other forwards the query there.
        Set<String> answeredBy = new HashSet<>();
        for (String client : clients) {
            HttpResponse<String> viaFirst = resolve(first, client);
            HttpResponse<String> viaSecond = resolve(second, client);
            assertThat(viaFirst.statusCode()).as(viaFirst.body()).isEqualTo(200);
            assertThat(viaSecond.statusCode()).as(viaSecond.body()).isEqualTo(200);
            JsonNode one = Json.mapper().readTree(viaFirst.body());
            JsonNode other = Json.mapper().readTree(viaSecond.body());

            assertThat(one.get("cache").get("present").asBoolean()).as("cache entry of " + client).isTrue();
            assertThat(storedEntry(one)).as("cache entry of " + client).isEqualTo(storedEntry(other));
            assertThat(one.get("resolvedBy").asText()).isEqualTo("cache");
            assertThat(other.get("resolvedBy").asText()).isEqualTo("cache");
            assertThat(one.get("resolution").get("level").asText()).isEqualTo("global");
            assertThat(one.get("resolution").get("addresses")).isEqualTo(other.get("resolution").get("addresses"));
            assertThat(one.get("answeredBy").asText()).as("owner of " + client).isEqualTo(other.get("answeredBy").asText());
            assertThat(one.get("partition").asInt()).isEqualTo(other.get("partition").asInt());
            assertThat(one.has("forwardedBy") ^ other.has("forwardedBy")).as("exactly one forwarded " + client).isTrue();
            answeredBy.add(one.get("answeredBy").asText());
        }
        assertThat(answeredBy).as("both instances own clients")
                .containsExactlyInAnyOrder(first.applicationServer(), second.applicationServer());

        // A trace lives in the partition of its client, so the instance without it queries the other one.
        for (String client : clients) {
            String requestId = requestIdOf.get(client);
            JsonNode one = trace(first, requestId);
            JsonNode other = trace(second, requestId);
            assertThat(one.get("trace")).as("trace of " + requestId).isEqualTo(other.get("trace"));
            assertThat(one.get("trace").get("clientId").asText()).isEqualTo(client);
            assertThat(one.get("trace").get("outcome").asText()).isEqualTo("routed");
            assertThat(one.get("trace").get("serverId").asText()).isEqualTo(APP_SERVER);
            assertThat(one.get("trace").get("loadBalancer").asText()).isEqualTo(LB_ADDRESS);
            assertThat(one.get("answeredBy").asText()).isEqualTo(other.get("answeredBy").asText());
            assertThat(one.has("forwardedBy") ^ other.has("forwardedBy")).as("exactly one forwarded the trace query").isTrue();
        }
        HttpResponse<String> missing = get(first, RoutingApiHandler.TRACES_PATH + "/no-such-request");
        assertThat(missing.statusCode()).as(missing.body()).isEqualTo(404);
        JsonNode missingBody = Json.mapper().readTree(missing.body());
        assertThat(missingBody.get("message").asText()).contains("no-such-request");
        assertThat(missingBody.get("instancesQueried")).hasSize(2);

        // Each instance counts the requests it routed; the load query sums them over both.
        JsonNode localFirst = load(first, "&local=true");
        JsonNode localSecond = load(second, "&local=true");
        assertThat(localFirst.get("scope").asText()).isEqualTo("local");
        assertThat(localFirst.get("totalLastFiveMinutes").asLong() + localSecond.get("totalLastFiveMinutes").asLong())
                .isEqualTo(CLIENTS);
        assertThat(localFirst.get("totalLastFiveMinutes").asLong()).as("first routed some").isPositive();
        assertThat(localSecond.get("totalLastFiveMinutes").asLong()).as("second routed some").isPositive();
        for (RoutingService service : List.of(first, second)) {
            JsonNode all = load(service, "");
            assertThat(all.get("scope").asText()).isEqualTo("all");
            assertThat(all.get("totalLastFiveMinutes").asLong()).isEqualTo(CLIENTS);
            assertThat(all.get("servers").get(0).get("serverId").asText()).isEqualTo(APP_SERVER);
            assertThat(all.get("servers").get(0).get("lastFiveMinutes").asLong()).isEqualTo(CLIENTS);
            List<String> instances = new ArrayList<>();
            all.get("instances").forEach(instance -> instances.add(instance.get("instance").asText()));
            assertThat(instances).containsExactlyInAnyOrder(first.applicationServer(), second.applicationServer());
        }
        HttpResponse<String> invalidLocal = get(first, RoutingApiHandler.LB_LOAD_PATH + "?pool=" + POOL + "&local=yes");
        assertThat(invalidLocal.statusCode()).as(invalidLocal.body()).isEqualTo(400);

        // After the first instance leaves, the second owns every client; 503 is allowed only while that settles.
        first.close();
        for (String client : clients) {
            JsonNode answer = awaitAnswer(() -> resolve(second, client));
            assertThat(answer.get("answeredBy").asText()).isEqualTo(second.applicationServer());
            assertThat(answer.has("forwardedBy")).isFalse();
            assertThat(answer.get("cache").get("present").asBoolean()).as("restored cache entry of " + client).isTrue();
            assertThat(answer.get("resolution").get("addresses").get(0).asText()).isEqualTo(LB_ADDRESS);
        }
        for (String client : clients) {
            String path = RoutingApiHandler.TRACES_PATH + "/" + requestIdOf.get(client);
            JsonNode restored = awaitAnswer(() -> get(second, path));
            assertThat(restored.get("answeredBy").asText()).isEqualTo(second.applicationServer());
            assertThat(restored.get("trace").get("clientId").asText()).isEqualTo(client);
        }
        // The batch filters have no changelog; the survivor rebuilt them from the restored batches, so queries find them.
        ReadOnlyKeyValueStore<Long, byte[]> stored = second.streams().store(StoreQueryParameters.fromNameAndType(
                RoutingTopology.ROUTING_TRACES_STORE, QueryableStoreTypes.keyValueStore()));
        await().atMost(TIMEOUT).untilAsserted(() -> {
            Set<String> storedIds = new HashSet<>();
            try (var batches = stored.all()) {
                batches.forEachRemaining(batch -> StoreSerdes.readTraceBatch("test", batch.value)
                        .forEach(trace -> storedIds.add(trace.requestId())));
            }
            assertThat(storedIds).as("request ids in the survivor's trace batches").containsAll(requestIdOf.values());
            assertThat(registries.get(second).get("backbone.routing.traces.held").gauge().value())
                    .as("traces held by the survivor").isEqualTo(storedIds.size());
        });
        JsonNode survivorLoad = load(second, "");
        assertThat(survivorLoad.get("instances")).hasSize(1);
    }

    /** Returns the cache entry of a resolve response without {@code expiresInMs}, which depends on the time of the query. */
    private static JsonNode storedEntry(JsonNode answer) {
        JsonNode entry = answer.get("cache").deepCopy();
        ((ObjectNode) entry).remove("expiresInMs");
        return entry;
    }

    /** Sends a query until it returns 200 and returns the body; only 503 with Retry-After is retried. */
    private static JsonNode awaitAnswer(Callable<HttpResponse<String>> query) throws Exception {
        var answer = new AtomicReference<HttpResponse<String>>();
        await().atMost(TIMEOUT).until(() -> {
            HttpResponse<String> response = query.call();
            if (response.statusCode() == 503) {
                assertThat(response.headers().firstValue("Retry-After")).as(response.body()).isPresent();
                return false;
            }
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            answer.set(response);
            return true;
        });
        return Json.mapper().readTree(answer.get().body());
    }

    private RoutingService startRouting(String bootstrapServers, String name) throws Exception {
        var settings = new HashMap<String, String>();
        settings.put("bootstrap.servers", bootstrapServers);
        settings.put("application.id", APPLICATION_ID);
        settings.put("state.dir", Files.createTempDirectory("routing-multi-it-" + name + "-").toString());
        settings.put("commit.interval.ms", "50");
        settings.put("fetch.max.wait.ms", "20");
        settings.put("lb.addresses", LB_ADDRESS);
        settings.put("lb.pool", POOL);
        settings.put("lb.heartbeat.interval.ms", "200");
        settings.put("heartbeat.timeout.ms", "600000");
        settings.put("rest.port", "0");
        var registry = new SimpleMeterRegistry();
        var service = RoutingService.start(RoutingConfig.from(Settings.of(settings)), registry);
        started.add(service);
        registries.put(service, registry);
        return service;
    }

    /** Returns whether the service lists two instances in the group, each with partitions assigned. */
    private static boolean bothOwnPartitions(RoutingService service) {
        if (service.streams().state() != KafkaStreams.State.RUNNING) {
            return false;
        }
        var clients = service.streams().metadataForAllStreamsClients();
        return clients.size() == 2 && clients.stream().map(StreamsMetadata::topicPartitions).noneMatch(Set::isEmpty);
    }

    private <V> void send(Topic<String, V> topic, String key, V value) {
        byte[] bytes = topic.valueSerde().serializer().serialize(topic.name(), value);
        producer.send(new ProducerRecord<>(topic.name(), key.getBytes(StandardCharsets.UTF_8), bytes));
    }

    private static ClientRequest request(String requestId, String clientId) {
        long now = System.currentTimeMillis();
        return new ClientRequest(ClientRequest.SCHEMA_VERSION, requestId, clientId, "eu-west", "DE", SITE, "GET",
                "/products/1", "", Map.of(), null, "ingest-it", 0, now, now + 60_000);
    }

    private HttpResponse<String> get(RoutingService service, String pathAndQuery) throws Exception {
        URI uri = service.restUri().resolve(pathAndQuery);
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> resolve(RoutingService service, String client) throws Exception {
        return get(service, RoutingApiHandler.RESOLVE_PATH + "?name=" + SITE + "&client="
                + URLEncoder.encode(client, StandardCharsets.UTF_8) + "&region=eu-west&country=DE");
    }

    private JsonNode trace(RoutingService service, String requestId) throws Exception {
        HttpResponse<String> response = get(service, RoutingApiHandler.TRACES_PATH + "/" + requestId);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return Json.mapper().readTree(response.body());
    }

    private JsonNode load(RoutingService service, String extraQuery) throws Exception {
        HttpResponse<String> response = get(service, RoutingApiHandler.LB_LOAD_PATH + "?pool=" + POOL + extraQuery);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return Json.mapper().readTree(response.body());
    }

    /** Reads {@code backbone.routed-requests} from the beginning until every request id has been routed. */
    private static void awaitRouted(String bootstrapServers, Set<String> requestIds) {
        Set<String> routed = new HashSet<>();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20), new ByteArrayDeserializer(),
                Topics.ROUTED_REQUESTS.valueSerde().deserializer())) {
            var partitions = consumer.partitionsFor(Topics.ROUTED_REQUESTS.name()).stream()
                    .map(info -> new TopicPartition(Topics.ROUTED_REQUESTS.name(), info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            await().atMost(TIMEOUT).until(() -> {
                consumer.poll(Duration.ofMillis(100)).forEach(record -> routed.add(record.value().request().requestId()));
                return routed.containsAll(requestIds);
            });
        }
    }
}
