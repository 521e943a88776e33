package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.Heartbeat;
import dev.backbone.events.Json;
import dev.backbone.events.RoutedRequest;
import dev.backbone.events.Settings;
import dev.backbone.events.Topics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
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
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
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
class RoutingRestApiIT {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String TOKEN = "it-admin-token-0123456789abcdef";
    private static final String SITE = "shop.rest-it.example";

    private static KafkaProducer<byte[], byte[]> producer;
    private static RoutingService service;
    private static String bootstrapServers;
    private static URI api;
    private static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startRouting(EmbeddedKafka kafka) throws Exception {
        bootstrapServers = kafka.bootstrapServers();
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
        var appServer = new Heartbeat(Heartbeat.SCHEMA_VERSION, "app-1", Heartbeat.Kind.APP_SERVER, "shop",
                Heartbeat.State.UP, List.of(0), 1, 1, System.currentTimeMillis());
        produce(Topics.LB_HEARTBEATS.name(), "app-1",
                Topics.LB_HEARTBEATS.valueSerde().serializer().serialize(Topics.LB_HEARTBEATS.name(), appServer));

        var settings = new HashMap<String, String>();
        settings.put("bootstrap.servers", bootstrapServers);
        settings.put("application.id", "routing-rest-api-it");
        settings.put("state.dir", Files.createTempDirectory("routing-rest-api-it-").toString());
        settings.put("commit.interval.ms", "50");
        settings.put("fetch.max.wait.ms", "20");
        settings.put("lb.addresses", "lb-global,lb-eu");
        settings.put("lb.heartbeat.interval.ms", "200");
        // The app server above sends one heartbeat only; it must stay alive for the whole test.
        settings.put("heartbeat.timeout.ms", "600000");
        settings.put("rest.port", "0");
        settings.put("admin.token", TOKEN);
        service = RoutingService.start(RoutingConfig.from(Settings.of(settings)),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        api = service.restUri();
        assertThat(service.awaitRunning(TIMEOUT)).as("routing streams running").isTrue();

        ReadOnlyKeyValueStore<String, Heartbeat> heartbeats = service.streams().store(StoreQueryParameters.fromNameAndType(
                RoutingTopology.HEARTBEATS_STORE, QueryableStoreTypes.keyValueStore()));
        await().atMost(TIMEOUT).until(() -> heartbeats.get("lb-global") != null && heartbeats.get("lb-eu") != null
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

    // ---- HTTP and Kafka helpers ----

    private static void produce(String topic, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value)).get();
    }

    private static HttpResponse<String> send(String method, String path, String body, String token) throws Exception {
        var builder = HttpRequest.newBuilder(api.resolve(path)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            builder.header("Content-Type", "application/json");
        }
        builder.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> putRecord(String json) throws Exception {
        return send("PUT", "/api/dns/records", json, TOKEN);
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return Json.mapper().readTree(response.body());
    }

    private static JsonNode resolve(String name, String client, String region, String country) throws Exception {
        var response = send("GET", "/api/dns/resolve?name=" + encode(name) + "&client=" + encode(client) + "&region="
                + encode(region) + "&country=" + encode(country), null, null);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return json(response);
    }

    private static JsonNode list(String prefix) throws Exception {
        var response = send("GET", "/api/dns/records?prefix=" + encode(prefix), null, null);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return json(response);
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static ClientRequest request(String requestId, String clientId, String region, String country) {
        long now = System.currentTimeMillis();
        return new ClientRequest(ClientRequest.SCHEMA_VERSION, requestId, clientId, region, country, SITE.toUpperCase(),
                "GET", "/products/1", "", Map.of(), null, "ingest-it", 0, now, now + 30_000);
    }

    private static void sendRequest(ClientRequest request) throws Exception {
        produce(Topics.CLIENT_REQUESTS.name(), request.clientId(),
                Topics.CLIENT_REQUESTS.valueSerde().serializer().serialize(Topics.CLIENT_REQUESTS.name(), request));
    }

    /** Reads {@code backbone.routed-requests} from the beginning until every request id has been routed. */
    private static Map<String, RoutedRequest> awaitRouted(List<String> requestIds) {
        Map<String, RoutedRequest> routed = new HashMap<>();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20), new ByteArrayDeserializer(),
                Topics.ROUTED_REQUESTS.valueSerde().deserializer())) {
            var partitions = consumer.partitionsFor(Topics.ROUTED_REQUESTS.name()).stream()
                    .map(info -> new TopicPartition(Topics.ROUTED_REQUESTS.name(), info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            await().atMost(TIMEOUT).until(() -> {
                consumer.poll(Duration.ofMillis(100)).forEach(record ->
                        routed.put(record.value().request().requestId(), record.value()));
                return routed.keySet().containsAll(requestIds);
            });
        }
        return routed;
    }

    // ---- tests ----

    @Test
    void regionalAndGlobalRecordsRouteAndResolve() throws Exception {
        var global = putRecord("{\"name\": \"" + SITE + ".\", \"scope\": \"global\", \"type\": \"A\", "
                + "\"addresses\": [\"lb-global\"], \"ttlSeconds\": 60}");
        var regional = putRecord("{\"name\": \"" + SITE.toUpperCase() + "\", \"scope\": \"region:eu-west\", "
                + "\"type\": \"A\", \"addresses\": [\"lb-eu\"], \"ttlSeconds\": 60}");

        assertThat(global.statusCode()).as(global.body()).isEqualTo(200);
        assertThat(regional.statusCode()).as(regional.body()).isEqualTo(200);
        assertThat(json(global).get("name").asText()).isEqualTo(SITE);
        assertThat(json(regional).get("scope").asText()).isEqualTo("region:eu-west");
        assertThat(json(regional).get("version").asLong()).isPositive();
        await().atMost(TIMEOUT).until(() -> list(SITE).get("count").asInt() == 2);

        var fromEu = request("rest-it-eu-1", "client-eu", "eu-west", "DE");
        var fromUs = request("rest-it-us-1", "client-us", "us-east", "US");
        sendRequest(fromEu);
        sendRequest(fromUs);
        var routed = awaitRouted(List.of(fromEu.requestId(), fromUs.requestId()));

        assertThat(routed.get(fromEu.requestId()).resolvedBy()).isEqualTo("region");
        assertThat(routed.get(fromEu.requestId()).loadBalancer()).isEqualTo("lb-eu");
        assertThat(routed.get(fromUs.requestId()).resolvedBy()).isEqualTo("global");
        assertThat(routed.get(fromUs.requestId()).loadBalancer()).isEqualTo("lb-global");

        var euView = resolve(SITE, "client-eu", "eu-west", "DE");
        assertThat(euView.get("resolvedBy").asText()).as("cached by the routed request").isEqualTo("cache");
        assertThat(euView.get("cache").get("present").asBoolean()).isTrue();
        assertThat(euView.get("cache").get("level").asText()).isEqualTo("region");
        assertThat(euView.get("cache").get("addresses").get(0).asText()).isEqualTo("lb-eu");
        assertThat(euView.get("resolution").get("result").asText()).isEqualTo("region");
        assertThat(euView.get("answeredBy").asText()).isEqualTo(service.applicationServer());

        var usView = resolve(SITE, "client-us", "us-east", "US");
        assertThat(usView.get("cache").get("level").asText()).isEqualTo("global");
        assertThat(usView.get("resolution").get("addresses").get(0).asText()).isEqualTo("lb-global");

        var newClient = resolve(SITE + ".", "client-new", "eu-west", "");
        assertThat(newClient.get("cache").get("present").asBoolean()).isFalse();
        assertThat(newClient.get("resolvedBy").asText()).isEqualTo("region");
        assertThat(newClient.get("name").asText()).isEqualTo(SITE);
    }

    @Test
    void invalidFieldsAnswer400NamingField() throws Exception {
        Map<String, String> bodiesByField = new java.util.LinkedHashMap<>();
        bodiesByField.put("name", "{\"name\": \"bad..name\", \"scope\": \"global\", \"type\": \"A\", \"addresses\": [\"lb-1\"], \"ttlSeconds\": 60}");
        bodiesByField.put("scope", "{\"name\": \"x.example\", \"scope\": \"planet:mars\", \"type\": \"A\", \"addresses\": [\"lb-1\"], \"ttlSeconds\": 60}");
        bodiesByField.put("type", "{\"name\": \"x.example\", \"scope\": \"global\", \"type\": \"MX\", \"addresses\": [\"lb-1\"], \"ttlSeconds\": 60}");
        bodiesByField.put("addresses", "{\"name\": \"x.example\", \"scope\": \"global\", \"type\": \"A\", \"addresses\": [], \"ttlSeconds\": 60}");
        bodiesByField.put("addresses[1]", "{\"name\": \"x.example\", \"scope\": \"global\", \"type\": \"A\", \"addresses\": [\"lb-1\", \"lb 2\"], \"ttlSeconds\": 60}");
        bodiesByField.put("target", "{\"name\": \"x.example\", \"scope\": \"global\", \"type\": \"CNAME\", \"ttlSeconds\": 60}");
        bodiesByField.put("ttlSeconds", "{\"name\": \"x.example\", \"scope\": \"global\", \"type\": \"A\", \"addresses\": [\"lb-1\"], \"ttlSeconds\": -1}");

        for (var entry : bodiesByField.entrySet()) {
            var response = putRecord(entry.getValue());
            assertThat(response.statusCode()).as(entry.getKey()).isEqualTo(400);
            assertThat(response.headers().firstValue("Content-Type")).as(entry.getKey()).hasValueSatisfying(
                    type -> assertThat(type).startsWith("application/json"));
            var error = json(response);
            assertThat(error.get("error").asText()).as(entry.getKey()).isEqualTo("invalid_field");
            assertThat(error.get("field").asText()).as(entry.getKey()).isEqualTo(entry.getKey());
            assertThat(error.get("accepted").asText()).as(entry.getKey()).isNotBlank();
            assertThat(error.get("message").asText()).as(entry.getKey()).startsWith(entry.getKey()).contains("accepted:");
        }
        var tooLong = putRecord("{\"name\": \"x.example\", \"scope\": \"global\", \"type\": \"A\", \"addresses\": [\"lb-1\"], \"ttlSeconds\": 604801}");
        assertThat(json(tooLong).get("value").asText()).isEqualTo("604801");
        assertThat(json(tooLong).get("accepted").asText()).contains("604800");
        var wrongType = putRecord("{\"name\": \"x.example\", \"scope\": \"global\", \"type\": \"A\", \"addresses\": [\"lb-1\"], \"ttlSeconds\": \"sixty\"}");
        assertThat(json(wrongType).get("field").asText()).isEqualTo("ttlSeconds");
    }

    @Test
    void malformedJsonAnswers400() throws Exception {
        var broken = putRecord("{\"name\": ");
        var array = putRecord("[1, 2]");
        var empty = putRecord("");

        assertThat(broken.statusCode()).isEqualTo(400);
        assertThat(json(broken).get("error").asText()).isEqualTo("bad_request");
        assertThat(json(broken).get("message").asText()).startsWith("request body is not valid JSON at line 1");
        assertThat(array.statusCode()).isEqualTo(400);
        assertThat(json(array).get("message").asText()).contains("must be a JSON object").contains("ARRAY");
        assertThat(empty.statusCode()).isEqualTo(400);
        assertThat(json(empty).get("message").asText()).startsWith("request body is empty");
    }

    @Test
    void adminRoutesNeedBearerToken() throws Exception {
        String body = "{\"name\": \"token.example\", \"scope\": \"global\", \"type\": \"A\", \"addresses\": [\"lb-1\"], \"ttlSeconds\": 60}";

        var missing = send("PUT", "/api/dns/records", body, null);
        var wrong = send("PUT", "/api/dns/records", body, TOKEN + "-wrong");
        var deleteWithout = send("DELETE", "/api/dns/records/global/token.example", null, null);

        for (var response : List.of(missing, wrong, deleteWithout)) {
            assertThat(response.statusCode()).isEqualTo(401);
            assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
                    value -> assertThat(value).startsWith("Bearer"));
            assertThat(json(response).get("error").asText()).isEqualTo("unauthorized");
        }
        assertThat(json(wrong).get("message").asText()).doesNotContain(TOKEN);
        assertThat(list("token.").get("count").asInt()).as("nothing was written").isZero();
    }

    @Test
    void deleteThenListAndDeleteAgain() throws Exception {
        assertThat(putRecord("{\"name\": \"del.rest-it.example\", \"scope\": \"country:de\", \"type\": \"CNAME\", "
                + "\"target\": \"" + SITE + "\", \"ttlSeconds\": 0}").statusCode()).isEqualTo(200);
        await().atMost(TIMEOUT).until(() -> list("del.").get("count").asInt() == 1);
        var listed = list("DEL.").get("records").get(0);
        assertThat(listed.get("scope").asText()).isEqualTo("country:DE");
        assertThat(listed.get("target").asText()).isEqualTo(SITE);

        var deleted = send("DELETE", "/api/dns/records/country:DE/del.rest-it.example.", null, TOKEN);

        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
        assertThat(json(deleted).get("deleted").get("name").asText()).isEqualTo("del.rest-it.example");
        await().atMost(TIMEOUT).until(() -> list("del.").get("count").asInt() == 0);
        var again = send("DELETE", "/api/dns/records/country:de/del.rest-it.example", null, TOKEN);
        assertThat(again.statusCode()).isEqualTo(404);
        assertThat(json(again).get("key").asText()).isEqualTo("country:de/del.rest-it.example");
        var badPath = send("DELETE", "/api/dns/records/global", null, TOKEN);
        assertThat(badPath.statusCode()).isEqualTo(400);
    }

    @Test
    void resolveUnknownNameAndBadInput() throws Exception {
        var unknown = resolve("nowhere.rest-it.example", "client-x", "", "");
        assertThat(unknown.get("resolvedBy").asText()).isEqualTo("nxdomain");
        assertThat(unknown.get("resolution").get("missingName").asText()).isEqualTo("nowhere.rest-it.example");

        var missingClient = send("GET", "/api/dns/resolve?name=" + SITE, null, null);
        assertThat(missingClient.statusCode()).isEqualTo(400);
        assertThat(json(missingClient).get("field").asText()).isEqualTo("client");
        var badName = send("GET", "/api/dns/resolve?name=a..b&client=c", null, null);
        assertThat(badName.statusCode()).isEqualTo(400);
        assertThat(json(badName).get("field").asText()).isEqualTo("name");
    }

    @Test
    void unknownRouteAndMethodAnswerJson() throws Exception {
        var unknown = send("GET", "/api/nothing", null, null);
        var wrongMethod = send("POST", "/api/dns/records", "{}", TOKEN);
        var badLimit = send("GET", "/api/dns/records?limit=0", null, null);

        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(json(unknown).get("path").asText()).isEqualTo("/api/nothing");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("GET, PUT");
        assertThat(json(wrongMethod).get("error").asText()).isEqualTo("method_not_allowed");
        assertThat(badLimit.statusCode()).isEqualTo(400);
        assertThat(json(badLimit).get("field").asText()).isEqualTo("limit");
    }

    @Test
    void metricsServedAsPrometheusText() throws Exception {
        var response = send("GET", "/metrics", null, null);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/plain"));
        var lines = new ArrayList<>(response.body().lines().toList());
        assertThat(lines).anyMatch(line -> line.startsWith("backbone_routing_dns_lookups_total{result=\"region\"}"));
        assertThat(lines).anyMatch(line -> line.startsWith("backbone_routing_dns_cache_entries"));
        assertThat(lines).anyMatch(line -> line.startsWith("backbone_routing_dns_resolution_seconds"));
    }
}
