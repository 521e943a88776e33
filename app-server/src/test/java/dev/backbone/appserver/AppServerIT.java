package dev.backbone.appserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariDataSource;
import dev.backbone.embedded.EmbeddedStack;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.DeadLetter;
import dev.backbone.events.Heartbeat;
import dev.backbone.events.Invalidation;
import dev.backbone.events.Json;
import dev.backbone.events.RoutedRequest;
import dev.backbone.events.Settings;
import dev.backbone.events.Topics;
import dev.backbone.storage.CatalogueSeeder;
import dev.backbone.storage.Database;
import dev.backbone.events.MetricsEndpoint;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedStackExtension.class)
class AppServerIT {

    private static final String SERVER_ID = "app-it-1";
    private static final int REPLY_PARTITION = 3;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String SECRET = "app-server-it-secret-of-32-bytes";
    private static final String EDGE_TOKEN = "edge-token-for-the-it";
    /** Product 50 is pinned through cache.pinned.keys. */
    private static final long PINNED_PRODUCT = 50;
    private static final TokenSigner SIGNER = new TokenSigner(SECRET.getBytes(StandardCharsets.UTF_8));

    private static HikariDataSource database;
    private static PrometheusMeterRegistry registry;
    private static AppServer server;
    private static KafkaProducer<byte[], byte[]> producer;
    private static KafkaConsumer<byte[], byte[]> responseConsumer;
    private static final Map<String, ConsumerRecord<byte[], byte[]>> responses = new ConcurrentHashMap<>();
    private static String bootstrapServers;

    @BeforeAll
    static void startServer(EmbeddedStack stack) {
        bootstrapServers = stack.bootstrapServers();
        database = Database.pool(stack.postgres().jdbcUrl(), 2);
        Database.migrate(database);
        CatalogueSeeder.seed(database, 5, 100, 20, 7L);

        var config = AppServerConfig.from(Settings.of(Map.ofEntries(
                Map.entry("server.id", SERVER_ID),
                Map.entry("bootstrap.servers", bootstrapServers),
                Map.entry("jdbc.url", stack.postgres().jdbcUrl()),
                Map.entry("db.pool.size", "2"),
                Map.entry("cache.max.entries", "1000"),
                Map.entry("cache.ttl.ms", "300000"),
                Map.entry("cache.pinned.keys", "product:" + PINNED_PRODUCT),
                Map.entry("heartbeat.interval.ms", "200"),
                Map.entry("worker.threads", "2"),
                Map.entry("poll.max.records", "50"),
                Map.entry("auth.secret", SECRET),
                Map.entry("edge.token", EDGE_TOKEN),
                Map.entry("cdn.edges", "us-east=http://127.0.0.1:8090/,eu-west=http://127.0.0.1:8091/"))));
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        server = AppServer.start(config, registry);

        producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer());
        responseConsumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        responseConsumer.assign(List.of(new TopicPartition(Topics.RESPONSES.name(), REPLY_PARTITION)));
        responseConsumer.seekToBeginning(responseConsumer.assignment());

        await().atMost(TIMEOUT).until(server::ready);
    }

    @AfterAll
    static void stopServer() {
        server.close();
        server.close();
        responseConsumer.close();
        producer.close();
        database.close();
    }

    @Test
    void kafkaClientMetersAreBoundPerClient() {
        await().atMost(TIMEOUT).untilAsserted(() -> assertThat(registry.getMeters().stream()
                .filter(meter -> meter.getId().getName().startsWith("kafka."))
                .map(meter -> meter.getId().getTag("client.id")))
                .contains("app-server-" + SERVER_ID, "app-server-" + SERVER_ID + "-requests",
                        "app-server-" + SERVER_ID + "-invalidations"));
    }

    @Test
    void metricsEndpointServesAppServerMeters() throws Exception {
        var config = AppServerConfig.from(Settings.of(Map.of(
                "server.id", "metrics-only",
                "bootstrap.servers", bootstrapServers,
                "jdbc.url", "jdbc:postgresql://127.0.0.1:5432/unused",
                "auth.secret", SECRET,
                "metrics.port", "0")));

        try (MetricsEndpoint endpoint = Main.startMetrics(config, registry)) {
            HttpResponse<String> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(endpoint.uri()).timeout(TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).contains(MetricsEndpoint.CONTENT_TYPE);
            assertThat(response.body()).contains("backbone_app_requests_skipped_total");
            assertThat(response.body()).contains("kafka_producer_");
            assertThat(response.body()).contains("kafka_consumer_");
        }
    }

    @Test
    void getExistingProductAnswersJson() throws Exception {
        String requestId = send("GET", "/products/42", null);

        ConsumerRecord<byte[], byte[]> record = awaitResponseRecord(requestId);
        ClientResponse response = decode(record);

        assertThat(record.partition()).isEqualTo(REPLY_PARTITION);
        assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo(requestId);
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.headers()).containsEntry("content-type", "application/json");
        assertThat(response.servedBy()).isEqualTo(SERVER_ID);
        assertThat(response.headers()).containsEntry("etag", "\"" + queryLong("SELECT version FROM products WHERE id = 42") + "\"");
        assertThat(response.headers()).containsKey("x-backbone-cache");
        long categoryId = queryLong("SELECT category_id FROM products WHERE id = 42");
        assertThat(response.headers()).containsEntry("surrogate-key", "product:42 category:" + categoryId);
        assertThat(response.headers().get("cache-control")).startsWith("public, max-age=0, s-maxage=");
        assertThat(response.headers()).containsEntry("x-backbone-resolved-by", "global");
        assertThat(response.headers()).containsEntry("x-backbone-load-balancer", "lb-1");
        JsonNode body = Json.mapper().readTree(response.body());
        assertThat(body.get("id").asLong()).isEqualTo(42);
        assertThat(body.get("name").asText()).isEqualTo(queryString("SELECT name FROM products WHERE id = 42"));
        assertThat(body.get("priceCents").asLong()).isEqualTo(queryLong("SELECT price_cents FROM products WHERE id = 42"));
        assertThat(body.get("version").asLong()).isEqualTo(queryLong("SELECT version FROM products WHERE id = 42"));
        for (String field : List.of("categoryId", "description", "stock", "updatedAt")) {
            assertThat(body.has(field)).as(field).isTrue();
        }
    }

    @Test
    void offsetsAreCommittedAfterAnswers() throws Exception {
        String requestId = UUID.randomUUID().toString();
        RecordMetadata sent = sendRouted(routed(requestId, "GET", "/products/43", null, "shop")).get();
        awaitResponse(requestId);

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            var partition = new TopicPartition(sent.topic(), sent.partition());
            await().atMost(TIMEOUT).untilAsserted(() -> {
                Map<TopicPartition, OffsetAndMetadata> committed = admin
                        .listConsumerGroupOffsets("backbone-app-servers-shop").partitionsToOffsetAndMetadata().get();
                assertThat(committed.get(partition)).isNotNull();
                assertThat(committed.get(partition).offset()).isGreaterThan(sent.offset());
            });
        }
    }

    @Test
    void missingProductIsNotFound() throws Exception {
        ClientResponse response = awaitResponse(send("GET", "/products/100000", null));

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.headers()).containsEntry("content-type", "application/json");
        assertThat(Json.mapper().readTree(response.body()).get("error").asText()).isEqualTo("not_found");
    }

    @Test
    void badIdIsRejectedWithField() throws Exception {
        ClientResponse response = awaitResponse(send("GET", "/products/abc", null));

        assertThat(response.status()).isEqualTo(400);
        JsonNode body = Json.mapper().readTree(response.body());
        assertThat(body.get("field").asText()).isEqualTo("id");
        assertThat(body.get("value").asText()).isEqualTo("abc");
        assertThat(body.get("accepted").asText()).isEqualTo("an integer from 0 to 9223372036854775807");
        assertThat(awaitResponse(send("GET", "/products/-5", null)).status()).isEqualTo(400);
    }

    @Test
    void putUpdatesProductAndNextGetShowsIt() throws Exception {
        long versionBefore = queryLong("SELECT version FROM products WHERE id = 11");
        awaitResponse(send("GET", "/products/11", null));

        ClientResponse put = awaitResponse(sendWithToken("PUT", "/products/11", "{\"name\":\"Renamed lamp\",\"priceCents\":4321}"));

        assertThat(put.status()).isEqualTo(200);
        JsonNode updated = Json.mapper().readTree(put.body());
        assertThat(updated.get("name").asText()).isEqualTo("Renamed lamp");
        assertThat(updated.get("priceCents").asLong()).isEqualTo(4321);
        assertThat(updated.get("version").asLong()).isEqualTo(versionBefore + 1);
        assertThat(queryLong("SELECT price_cents FROM products WHERE id = 11")).isEqualTo(4321);

        JsonNode read = Json.mapper().readTree(awaitResponse(send("GET", "/products/11", null)).body());
        assertThat(read.get("name").asText()).isEqualTo("Renamed lamp");
        assertThat(read.get("version").asLong()).isEqualTo(versionBefore + 1);
    }

    @Test
    void putWithInvalidFieldIsRejected() throws Exception {
        ClientResponse response = awaitResponse(sendWithToken("PUT", "/products/12", "{\"priceCents\":-1}"));

        assertThat(response.status()).isEqualTo(400);
        JsonNode body = Json.mapper().readTree(response.body());
        assertThat(body.get("field").asText()).isEqualTo("priceCents");
        assertThat(body.get("value").asText()).isEqualTo("-1");
        assertThat(awaitResponse(sendWithToken("PUT", "/products/12", "{not json")).status()).isEqualTo(400);
        assertThat(awaitResponse(send("PUT", "/products/12", "{\"priceCents\":5}")).status()).as("without a token").isEqualTo(401);
        assertThat(queryLong("SELECT version FROM products WHERE id = 12")).isEqualTo(1);
    }

    @Test
    void unknownPathAndWrongMethodAreRejected() {
        assertThat(awaitResponse(send("GET", "/checkout", null)).status()).isEqualTo(404);

        ClientResponse wrongMethod = awaitResponse(send("POST", "/products/1", "{}"));
        assertThat(wrongMethod.status()).isEqualTo(405);
        assertThat(wrongMethod.headers()).containsEntry("allow", "GET, PUT, DELETE");
    }

    @Test
    void staleIfMatchIsPreconditionFailed() throws Exception {
        long version = queryLong("SELECT version FROM products WHERE id = 13");

        ClientResponse stale = awaitResponse(sendWithToken("PUT", "/products/13", "{\"stock\":1}",
                Map.of("if-match", "\"" + (version + 5) + "\"")));

        assertThat(stale.status()).isEqualTo(412);
        assertThat(stale.headers()).containsEntry("etag", "\"" + version + "\"");
        assertThat(Json.mapper().readTree(stale.body()).get("currentVersion").asLong()).isEqualTo(version);
        assertThat(queryLong("SELECT version FROM products WHERE id = 13")).as("nothing was written").isEqualTo(version);
    }

    @Test
    void currentIfMatchUpdatesProduct() throws Exception {
        long version = queryLong("SELECT version FROM products WHERE id = 14");

        ClientResponse put = awaitResponse(sendWithToken("PUT", "/products/14", "{\"stock\":77}",
                Map.of("if-match", "\"" + version + "\"")));

        assertThat(put.status()).isEqualTo(200);
        assertThat(put.headers()).containsEntry("etag", "\"" + (version + 1) + "\"");
        assertThat(Json.mapper().readTree(put.body()).get("stock").asInt()).isEqualTo(77);
        ClientResponse again = awaitResponse(sendWithToken("PUT", "/products/14", "{\"stock\":78}",
                Map.of("if-match", "\"" + version + "\"")));
        assertThat(again.status()).as("the old ETag no longer matches").isEqualTo(412);
    }

    @Test
    void postCreatesAndDeleteRemovesProduct() throws Exception {
        ClientResponse created = awaitResponse(sendWithToken("POST", "/products",
                "{\"categoryId\":2,\"name\":\"Quiet linen tent\",\"priceCents\":12900,\"stock\":3}"));

        assertThat(created.status()).isEqualTo(201);
        JsonNode product = Json.mapper().readTree(created.body());
        long id = product.get("id").asLong();
        assertThat(id).isGreaterThan(100);
        assertThat(product.get("version").asLong()).isEqualTo(1);
        assertThat(product.get("description").asText()).isEmpty();
        assertThat(created.headers()).containsEntry("location", "/products/" + id).containsEntry("etag", "\"1\"");
        assertThat(awaitResponse(send("GET", "/products/" + id, null)).status()).isEqualTo(200);

        ClientResponse staleDelete = awaitResponse(sendWithToken("DELETE", "/products/" + id, null, Map.of("if-match", "\"2\"")));
        assertThat(staleDelete.status()).isEqualTo(412);
        ClientResponse deleted = awaitResponse(sendWithToken("DELETE", "/products/" + id, null, Map.of("if-match", "\"1\"")));
        assertThat(deleted.status()).isEqualTo(204);
        assertThat(deleted.body()).isEmpty();
        assertThat(queryLong("SELECT count(*) FROM products WHERE id = " + id)).isZero();
        assertThat(awaitResponse(send("GET", "/products/" + id, null)).status()).as("the cache does not keep it").isEqualTo(404);
        assertThat(awaitResponse(sendWithToken("DELETE", "/products/" + id, null)).status()).isEqualTo(404);
        assertThat(awaitResponse(sendWithToken("DELETE", "/products/" + id, null, Map.of("if-match", "*"))).status()).isEqualTo(412);
    }

    @Test
    void postIntoUnknownCategoryNamesField() throws Exception {
        ClientResponse response = awaitResponse(sendWithToken("POST", "/products",
                "{\"categoryId\":999,\"name\":\"Lost lamp\",\"priceCents\":1,\"stock\":1}"));

        assertThat(response.status()).isEqualTo(400);
        JsonNode body = Json.mapper().readTree(response.body());
        assertThat(body.get("field").asText()).isEqualTo("categoryId");
        assertThat(body.get("value").asText()).isEqualTo("999");
        assertThat(body.get("accepted").asText()).isEqualTo("the id of an existing category");
    }

    @Test
    void negativeCacheIsInvalidatedByInsert() throws Exception {
        long nextId = queryLong("SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM products_id_seq");
        ClientResponse first = awaitResponse(send("GET", "/products/" + nextId, null));
        ClientResponse second = awaitResponse(send("GET", "/products/" + nextId, null));
        assertThat(first.status()).isEqualTo(404);
        assertThat(first.headers()).containsEntry("x-backbone-cache", "database");
        assertThat(second.status()).isEqualTo(404);
        assertThat(second.headers()).as("the 404 is cached").containsEntry("x-backbone-cache", "l1");

        ClientResponse created = awaitResponse(sendWithToken("POST", "/products",
                "{\"categoryId\":1,\"name\":\"Smart oak clock\",\"priceCents\":4500,\"stock\":2}"));
        assertThat(Json.mapper().readTree(created.body()).get("id").asLong()).isEqualTo(nextId);

        ClientResponse afterInsert = awaitResponse(send("GET", "/products/" + nextId, null));
        assertThat(afterInsert.status()).isEqualTo(200);
        assertThat(nameIn(afterInsert)).isEqualTo("Smart oak clock");
    }

    @Test
    void categoryPagesArePaged() throws Exception {
        long inCategory = queryLong("SELECT count(*) FROM products WHERE category_id = 3");

        JsonNode first = Json.mapper().readTree(awaitResponse(send("GET", "/categories/3/products", "page=1&size=3", null, Map.of())).body());
        JsonNode second = Json.mapper().readTree(awaitResponse(send("GET", "/categories/3/products", "page=2&size=3", null, Map.of())).body());

        assertThat(first.get("categoryId").asLong()).isEqualTo(3);
        assertThat(first.get("categoryName").asText()).isEqualTo(queryString("SELECT name FROM categories WHERE id = 3"));
        assertThat(first.get("products")).hasSize(3);
        assertThat(first.get("hasMore").asBoolean()).isEqualTo(inCategory > 3);
        assertThat(second.get("page").asInt()).isEqualTo(2);
        assertThat(second.get("products").get(0).get("id").asLong()).isGreaterThan(first.get("products").get(2).get("id").asLong());
        ClientResponse tooLarge = awaitResponse(send("GET", "/categories/3/products", "size=500", null, Map.of()));
        assertThat(tooLarge.status()).isEqualTo(400);
        assertThat(Json.mapper().readTree(tooLarge.body()).get("field").asText()).isEqualTo("size");
        assertThat(awaitResponse(send("GET", "/categories/999/products", "", null, Map.of())).status()).isEqualTo(404);
    }

    @Test
    void accountReadNeedsToken() throws Exception {
        long missingBefore = server.stats().authFailures().get("missing");

        ClientResponse anonymous = awaitResponse(send("GET", "/accounts/3", null));
        ClientResponse signedIn = awaitResponse(sendWithToken("GET", "/accounts/3", null));

        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.headers().get("www-authenticate")).contains("error=\"invalid_token\"");
        assertThat(server.stats().authFailures().get("missing")).isEqualTo(missingBefore + 1);
        assertThat(signedIn.status()).isEqualTo(200);
        assertThat(Json.mapper().readTree(signedIn.body()).get("email").asText()).isEqualTo("user3@example.com");
        assertThat(awaitResponse(sendWithToken("GET", "/accounts/999", null)).status()).isEqualTo(404);
    }

    @Test
    void verifiedAccountIsServedFromPinnedCache() throws Exception {
        long verifiedId = queryLong("SELECT min(id) FROM accounts WHERE verified");
        long verifiedCount = queryLong("SELECT count(*) FROM accounts WHERE verified");
        await().atMost(TIMEOUT).until(() -> server.pinnedKeys() >= verifiedCount + 1);

        ClientResponse read = awaitResponse(sendWithToken("GET", "/accounts/" + verifiedId, null));

        assertThat(read.status()).isEqualTo(200);
        assertThat(read.headers()).containsEntry("x-backbone-cache", "pinned");
        assertThat(Json.mapper().readTree(read.body()).get("verified").asBoolean()).isTrue();
    }

    @Test
    void pinnedProductIsRefreshedByInvalidation() throws Exception {
        await().atMost(TIMEOUT).until(() -> server.pinnedKeys() >= 1);
        ClientResponse before = awaitResponse(send("GET", "/products/" + PINNED_PRODUCT, null));
        assertThat(before.headers()).containsEntry("x-backbone-cache", "pinned");

        ClientResponse put = awaitResponse(sendWithToken("PUT", "/products/" + PINNED_PRODUCT, "{\"name\":\"Hot lamp\"}"));
        long newVersion = Json.mapper().readTree(put.body()).get("version").asLong();

        await().atMost(TIMEOUT).untilAsserted(() -> {
            ClientResponse read = awaitResponse(send("GET", "/products/" + PINNED_PRODUCT, null));
            assertThat(read.headers()).containsEntry("x-backbone-cache", "pinned");
            assertThat(Json.mapper().readTree(read.body()).get("version").asLong()).isEqualTo(newVersion);
            assertThat(nameIn(read)).isEqualTo("Hot lamp");
        });
    }

    @Test
    void staticRedirectsToEdgeOfRegion() {
        ClientResponse us = awaitResponse(send("GET", "/static/css/site.css", "", null, "us-east", Map.of()));
        ClientResponse eu = awaitResponse(send("GET", "/static/css/site.css", "", null, "eu-west", Map.of()));

        assertThat(us.status()).isEqualTo(302);
        assertThat(us.headers()).containsEntry("location", "http://127.0.0.1:8090/static/css/site.css")
                .containsEntry("cache-control", "private, max-age=0");
        assertThat(eu.status()).isEqualTo(302);
        assertThat(eu.headers()).containsEntry("location", "http://127.0.0.1:8091/static/css/site.css");
        assertThat(awaitResponse(send("GET", "/static/css/missing.css", "", null, "us-east", Map.of())).status()).isEqualTo(404);
    }

    @Test
    void staticWithoutEdgeForRegionIsServedHere() {
        ClientResponse response = awaitResponse(send("GET", "/static/js/app.js", "", null, "ap-south", Map.of()));

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.headers()).containsEntry("content-type", "text/javascript; charset=utf-8");
        assertThat(response.body()).contains("dataset.ready");
    }

    @Test
    void edgeTokenGetsBodyWithCacheHeaders() throws Exception {
        ClientResponse edge = awaitResponse(send("GET", "/static/data/featured.json", "", null, "us-east",
                Map.of("x-backbone-edge-token", EDGE_TOKEN)));

        assertThat(edge.status()).isEqualTo(200);
        assertThat(edge.headers())
                .containsEntry("content-type", "application/json")
                .containsEntry("cache-control", "public, max-age=60, s-maxage=300, stale-while-revalidate=30, stale-if-error=600")
                .containsEntry("surrogate-key", "asset:/data/featured.json product:1 product:2 product:3")
                .containsKeys("etag", "last-modified");
        assertThat(edge.headers().get("etag")).matches("\"[0-9a-f]{64}\"");
        assertThat(edge.headers().get("last-modified")).matches("[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT");
        assertThat(Json.mapper().readTree(edge.body()).get("featuredProductIds")).hasSize(3);

        ClientResponse revalidated = awaitResponse(send("GET", "/static/data/featured.json", "", null, "us-east",
                Map.of("x-backbone-edge-token", EDGE_TOKEN, "if-none-match", edge.headers().get("etag"))));
        assertThat(revalidated.status()).isEqualTo(304);
        assertThat(revalidated.body()).isEmpty();
        assertThat(revalidated.headers()).containsEntry("etag", edge.headers().get("etag"));
        assertThat(awaitResponse(send("GET", "/static/data/none.json", "", null, "us-east",
                Map.of("x-backbone-edge-token", EDGE_TOKEN))).status()).isEqualTo(404);
    }

    @Test
    void wrongEdgeTokenIsRedirected() {
        long before = server.stats().authFailures().get("edge_token");

        ClientResponse response = awaitResponse(send("GET", "/static/css/site.css", "", null, "us-east",
                Map.of("x-backbone-edge-token", "not-the-edge-token")));

        assertThat(response.status()).isEqualTo(302);
        assertThat(server.stats().authFailures().get("edge_token")).isEqualTo(before + 1);
    }

    @Test
    void protectedAssetRedirectNeedsToken() {
        ClientResponse anonymous = awaitResponse(send("GET", "/static/members/guide.html", "", null, "eu-west", Map.of()));
        ClientResponse signedIn = awaitResponse(send("GET", "/static/members/guide.html", "", null, "eu-west",
                Map.of("authorization", "Bearer " + SIGNER.mint("bob", Duration.ofMinutes(5)))));

        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(signedIn.status()).isEqualTo(302);
        assertThat(signedIn.headers()).containsEntry("location", "http://127.0.0.1:8091/static/members/guide.html");
    }

    @Test
    void staticPathTraversalIsRejected() throws Exception {
        ClientResponse response = awaitResponse(send("GET", "/static/../../etc/passwd", "", null, "us-east", Map.of()));

        assertThat(response.status()).isEqualTo(400);
        assertThat(Json.mapper().readTree(response.body()).get("field").asText()).isEqualTo("path");
    }

    @Test
    void invalidationAfterDirectUpdateEvictsCachedProduct() throws Exception {
        String oldName = queryString("SELECT name FROM products WHERE id = 20");
        awaitResponse(send("GET", "/products/20", null));
        long hitsBefore = server.stats().cacheHits();
        assertThat(nameIn(awaitResponse(send("GET", "/products/20", null)))).isEqualTo(oldName);
        assertThat(server.stats().cacheHits()).as("the second read comes from the cache").isGreaterThan(hitsBefore);

        execute("UPDATE products SET name = 'Changed in psql' WHERE id = 20");
        assertThat(nameIn(awaitResponse(send("GET", "/products/20", null))))
                .as("without an invalidation the cache still answers the old row").isEqualTo(oldName);

        long evictionsBefore = server.stats().evictionLagMs().getTotalCount();
        long version = queryLong("SELECT version FROM products WHERE id = 20");
        var invalidation = new Invalidation(Invalidation.SCHEMA_VERSION, "product:20", version, "u",
                System.currentTimeMillis(), System.currentTimeMillis());
        producer.send(new ProducerRecord<>(Topics.CACHE_INVALIDATIONS.name(), bytes("product:20"),
                Topics.CACHE_INVALIDATIONS.valueSerde().serializer().serialize(Topics.CACHE_INVALIDATIONS.name(), invalidation))).get();
        await().atMost(TIMEOUT).until(() -> server.stats().evictionLagMs().getTotalCount() > evictionsBefore);

        assertThat(nameIn(awaitResponse(send("GET", "/products/20", null)))).isEqualTo("Changed in psql");
        assertThat(registry.get("backbone.cache.eviction.lag").timer().count()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void malformedRequestIsDeadLettered() throws Exception {
        RecordMetadata malformed = producer.send(new ProducerRecord<>(Topics.ROUTED_REQUESTS.name(), 0,
                bytes("client-x"), bytes("{not a routed request"))).get();
        RoutedRequest badReplyPartition = routed(UUID.randomUUID().toString(), "GET", "/products/1", null, "shop", 99);
        RecordMetadata unanswerable = sendRouted(badReplyPartition).get();
        String next = UUID.randomUUID().toString();
        producer.send(new ProducerRecord<>(Topics.ROUTED_REQUESTS.name(), 0, bytes("client-x"),
                serialize(routed(next, "GET", "/products/2", null, "shop", REPLY_PARTITION)))).get();

        assertThat(awaitResponse(next).status()).isEqualTo(200);
        await().atMost(TIMEOUT).untilAsserted(() -> {
            List<DeadLetter> letters = readDeadLetters();
            assertThat(letters).anySatisfy(letter -> {
                assertThat(letter.topic()).isEqualTo(Topics.ROUTED_REQUESTS.name());
                assertThat(letter.partition()).isEqualTo(malformed.partition());
                assertThat(letter.offset()).isEqualTo(malformed.offset());
                assertThat(letter.consumer()).isEqualTo("backbone-app-servers-shop");
            });
            assertThat(letters).anySatisfy(letter -> {
                assertThat(letter.topic()).isEqualTo(Topics.ROUTED_REQUESTS.name());
                assertThat(letter.partition()).isEqualTo(unanswerable.partition());
                assertThat(letter.offset()).isEqualTo(unanswerable.offset());
                assertThat(letter.error()).contains("replyPartition 99");
            });
        });
    }

    @Test
    void malformedInvalidationIsDeadLettered() throws Exception {
        RecordMetadata malformed = producer.send(new ProducerRecord<>(Topics.CACHE_INVALIDATIONS.name(), 0,
                bytes("product:1"), bytes("[]"))).get();
        long evictionsBefore = server.stats().evictionLagMs().getTotalCount();
        var next = new Invalidation(Invalidation.SCHEMA_VERSION, "product:1", 1, "u", System.currentTimeMillis(),
                System.currentTimeMillis());
        producer.send(new ProducerRecord<>(Topics.CACHE_INVALIDATIONS.name(), 0, bytes("product:1"),
                Topics.CACHE_INVALIDATIONS.valueSerde().serializer().serialize(Topics.CACHE_INVALIDATIONS.name(), next))).get();

        await().atMost(TIMEOUT).until(() -> server.stats().evictionLagMs().getTotalCount() > evictionsBefore);
        await().atMost(TIMEOUT).untilAsserted(() -> assertThat(readDeadLetters()).anySatisfy(letter -> {
            assertThat(letter.topic()).isEqualTo(Topics.CACHE_INVALIDATIONS.name());
            assertThat(letter.partition()).isEqualTo(malformed.partition());
            assertThat(letter.offset()).isEqualTo(malformed.offset());
            assertThat(letter.consumer()).isEqualTo("backbone-app-server-" + SERVER_ID);
        }));
    }

    @Test
    void expiredAndOtherPoolRequestsAreSkipped() {
        long now = System.currentTimeMillis();
        String expiredId = UUID.randomUUID().toString();
        var expiredRequest = new ClientRequest(ClientRequest.SCHEMA_VERSION, expiredId, "client-y", "eu-west", "DE",
                "shop.example.com", "GET", "/products/3", "", Map.of(), null, "ingest-it", REPLY_PARTITION, now - 60_000, now - 30_000);
        long expiredBefore = server.stats().expiredRequests();
        sendRouted(new RoutedRequest(RoutedRequest.SCHEMA_VERSION, expiredRequest, "global", "lb-1", List.of(), "shop",
                SERVER_ID, "client-y", false, now));
        String otherPoolId = UUID.randomUUID().toString();
        sendRouted(routed(otherPoolId, "GET", "/products/3", null, "api"));
        String next = UUID.randomUUID().toString();
        sendRouted(routed(next, "GET", "/products/3", null, "shop"));

        assertThat(awaitResponse(next).status()).isEqualTo(200);
        assertThat(server.stats().expiredRequests()).isEqualTo(expiredBefore + 1);
        assertThat(registry.get("backbone.app.requests.skipped").tag("reason", "other_pool").functionCounter().count())
                .isGreaterThanOrEqualTo(1.0);
        assertThat(responses).doesNotContainKeys(expiredId, otherPoolId);
    }

    @Test
    void heartbeatsAnnounceAssignedPartitions() {
        List<Integer> everyPartition = IntStream.range(0, Topics.ROUTED_REQUESTS.partitions()).boxed().toList();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(new TopicPartition(Topics.LB_HEARTBEATS.name(), 0)));
            consumer.seekToBeginning(consumer.assignment());
            List<Heartbeat> heartbeats = new ArrayList<>();
            await().atMost(TIMEOUT).pollInSameThread().until(() -> {
                for (var record : consumer.poll(Duration.ofMillis(100))) {
                    heartbeats.add(Topics.LB_HEARTBEATS.valueSerde().deserializer().deserialize(record.topic(), record.value()));
                }
                return heartbeats.stream().filter(h -> h.partitions().equals(everyPartition)).count() >= 2;
            });

            Heartbeat last = heartbeats.get(heartbeats.size() - 1);
            assertThat(last.serverId()).isEqualTo(SERVER_ID);
            assertThat(last.kind()).isEqualTo(Heartbeat.Kind.APP_SERVER);
            assertThat(last.pool()).isEqualTo("shop");
            assertThat(last.state()).isEqualTo(Heartbeat.State.UP);
            assertThat(last.weight()).isEqualTo(1);
            assertThat(last.partitions()).isEqualTo(server.stats().assignedPartitions());
            for (int i = 1; i < heartbeats.size(); i++) {
                assertThat(heartbeats.get(i).sequence()).isGreaterThan(heartbeats.get(i - 1).sequence());
            }
        }
    }

    private static String send(String method, String path, String body) {
        return send(method, path, "", body, Map.of());
    }

    private static String sendWithToken(String method, String path, String body) {
        return sendWithToken(method, path, body, Map.of());
    }

    private static String sendWithToken(String method, String path, String body, Map<String, String> headers) {
        var withToken = new java.util.HashMap<>(headers);
        withToken.put("authorization", "Bearer " + SIGNER.mint("alice", Duration.ofMinutes(5)));
        return send(method, path, "", body, withToken);
    }

    private static String send(String method, String path, String query, String body, Map<String, String> headers) {
        return send(method, path, query, body, "eu-west", headers);
    }

    private static String send(String method, String path, String query, String body, String region, Map<String, String> headers) {
        String requestId = UUID.randomUUID().toString();
        sendRouted(routed(requestId, method, path, query, body, region, headers, "shop", REPLY_PARTITION));
        return requestId;
    }

    private static RoutedRequest routed(String requestId, String method, String path, String body, String pool) {
        return routed(requestId, method, path, body, pool, REPLY_PARTITION);
    }

    private static RoutedRequest routed(String requestId, String method, String path, String body, String pool, int replyPartition) {
        return routed(requestId, method, path, "", body, "eu-west", Map.of(), pool, replyPartition);
    }

    private static RoutedRequest routed(String requestId, String method, String path, String query, String body, String region,
                                        Map<String, String> headers, String pool, int replyPartition) {
        long now = System.currentTimeMillis();
        var allHeaders = new java.util.HashMap<>(headers);
        allHeaders.put("accept", "application/json");
        var request = new ClientRequest(ClientRequest.SCHEMA_VERSION, requestId, "client-1", region, "DE",
                "shop.example.com", method, path, query, allHeaders, body, "ingest-it", replyPartition, now, now + 60_000);
        return new RoutedRequest(RoutedRequest.SCHEMA_VERSION, request, "global", "lb-1", List.of(), pool, SERVER_ID,
                "client-1", false, now);
    }

    private static java.util.concurrent.Future<RecordMetadata> sendRouted(RoutedRequest routed) {
        return producer.send(new ProducerRecord<>(Topics.ROUTED_REQUESTS.name(), bytes(routed.routingKey()), serialize(routed)));
    }

    private static byte[] serialize(RoutedRequest routed) {
        return Topics.ROUTED_REQUESTS.valueSerde().serializer().serialize(Topics.ROUTED_REQUESTS.name(), routed);
    }

    private static ClientResponse awaitResponse(String requestId) {
        return decode(awaitResponseRecord(requestId));
    }

    private static ConsumerRecord<byte[], byte[]> awaitResponseRecord(String requestId) {
        await().atMost(TIMEOUT).pollInSameThread().until(() -> {
            synchronized (responseConsumer) {
                for (var record : responseConsumer.poll(Duration.ofMillis(50))) {
                    responses.put(new String(record.key(), StandardCharsets.UTF_8), record);
                }
            }
            return responses.containsKey(requestId);
        });
        return responses.get(requestId);
    }

    private static ClientResponse decode(ConsumerRecord<byte[], byte[]> record) {
        return Topics.RESPONSES.valueSerde().deserializer().deserialize(record.topic(), record.value());
    }

    private static String nameIn(ClientResponse response) throws Exception {
        return Json.mapper().readTree(response.body()).get("name").asText();
    }

    /** Reads the whole dead-letter topic from its beginning. */
    private static List<DeadLetter> readDeadLetters() {
        var partition = new TopicPartition(Topics.DEAD_LETTERS.name(), 0);
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            List<DeadLetter> letters = new ArrayList<>();
            while (consumer.position(partition) < end) {
                for (var record : consumer.poll(Duration.ofMillis(100))) {
                    letters.add(Topics.DEAD_LETTERS.valueSerde().deserializer().deserialize(record.topic(), record.value()));
                }
            }
            return letters;
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static void execute(String sql) throws SQLException {
        try (Connection connection = database.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    private static long queryLong(String sql) throws SQLException {
        try (Connection connection = database.getConnection(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getLong(1);
        }
    }

    private static String queryString(String sql) throws SQLException {
        try (Connection connection = database.getConnection(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getString(1);
        }
    }
}
