package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.backbone.appserver.TokenSigner;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.DeadLetter;
import dev.backbone.events.DnsRecord;
import dev.backbone.events.Heartbeat;
import dev.backbone.events.Invalidation;
import dev.backbone.events.Json;
import dev.backbone.events.PurgeRequest;
import dev.backbone.events.RoutedRequest;
import dev.backbone.events.Topic;
import dev.backbone.events.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
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
import org.junit.jupiter.api.TestInstance;

/**
 * Bad input through the front door and onto every consumed topic of the one-JVM stack. Each HTTP case must get a 4xx
 * that names what was wrong, and each bad record must land in {@code backbone.dead-letters} with its coordinates and
 * the error while its consumer goes on: a valid record produced right after it is processed. No case may get a 5xx.
 * The last step prints a table of every case with what was expected and what was seen.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputIT {

    /** SQL metacharacters sent in every path segment, query parameter, header and body field that the API reads. */
    private static final List<String> SQL_PAYLOADS = List.of("' OR 1=1 --", "1;DROP TABLE products", "1\"", "1'",
            "1\\", "1\u0000", "1' UNION SELECT email FROM accounts--");

    /** Products the battery writes to; every other row must be unchanged afterwards. */
    private static final long WRITE_TARGET = 5;
    private static final long CHANGE_TARGET = 9;
    private static final long INVALIDATION_TARGET = 11;
    private static final String ASSET = "/css/site.css";

    private final List<String[]> summary = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger clients = new AtomicInteger();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private LocalStack stack;
    private KafkaProducer<byte[], byte[]> producer;
    private DeadLetterLog deadLetters;
    private String token;

    @BeforeAll
    void start() {
        stack = LocalStack.start(StackOptions.ephemeral(1, 200, 10), step -> { });
        producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                new ByteArraySerializer(), new ByteArraySerializer());
        deadLetters = new DeadLetterLog(stack.bootstrapServers());
        token = stack.mintToken("battery", Duration.ofHours(1));
    }

    @AfterAll
    void stop() {
        printSummary();
        if (deadLetters != null) {
            deadLetters.close();
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        if (stack != null) {
            stack.close();
        }
    }

    // ---------------------------------------------------------------- HTTP

    @Test
    void productBodiesWithWrongJsonAreRejected() throws Exception {
        String put = "/products/" + WRITE_TARGET;
        expectRejected("PUT truncated JSON", send("PUT", put, auth(), json("{\"priceCents\": 12")), 400, "field", "body");
        expectRejected("PUT JSON array body", send("PUT", put, auth(), json("[1, 2]")), 400, "field", "body");
        expectRejected("PUT JSON string body", send("PUT", put, auth(), json("\"cheap\"")), 400, "field", "body");
        expectRejected("PUT JSON null body", send("PUT", put, auth(), json("null")), 400, "field", "body");
        expectRejected("PUT priceCents as string", send("PUT", put, auth(), json("{\"priceCents\": \"cheap\"}")), 400, "field", "priceCents");
        expectRejected("PUT priceCents fraction", send("PUT", put, auth(), json("{\"priceCents\": 1.5}")), 400, "field", "priceCents");
        expectRejected("PUT priceCents 2^64", send("PUT", put, auth(), json("{\"priceCents\": 18446744073709551616}")), 400, "field", "priceCents");
        expectRejected("PUT stock negative", send("PUT", put, auth(), json("{\"stock\": -1}")), 400, "field", "stock");
        expectRejected("PUT name as number", send("PUT", put, auth(), json("{\"name\": 42}")), 400, "field", "name");
        expectRejected("PUT name as array", send("PUT", put, auth(), json("{\"name\": [\"a\"]}")), 400, "field", "name");
        expectRejected("PUT name with unpaired surrogate", send("PUT", put, auth(), json("{\"name\": \"a\\ud800\"}")),
                400, "field", "name");
        expectRejected("PUT description object", send("PUT", put, auth(), json("{\"description\": {}}")), 400, "field", "description");
        expectRejected("PUT unknown schemaVersion", send("PUT", put, auth(), json("{\"schemaVersion\": 99, \"priceCents\": 100}")),
                400, "field", "schemaVersion");
        expectRejected("POST categoryId as string", send("POST", "/products", auth(),
                json("{\"categoryId\": \"one\", \"name\": \"n\", \"priceCents\": 1, \"stock\": 1}")), 400, "field", "categoryId");
        expectRejected("POST stock missing", send("POST", "/products", auth(),
                json("{\"categoryId\": 1, \"name\": \"n\", \"priceCents\": 1}")), 400, "field", "stock");
        expectRejected("POST unknown schemaVersion", send("POST", "/products", auth(),
                json("{\"schemaVersion\": 2, \"categoryId\": 1, \"name\": \"n\", \"priceCents\": 1, \"stock\": 1}")),
                400, "field", "schemaVersion");
    }

    @Test
    void oversizedBodiesAre413() throws Exception {
        byte[] big = new byte[2 * 1024 * 1024];
        java.util.Arrays.fill(big, (byte) 'a');
        var headers = new LinkedHashMap<>(auth());
        headers.put("Content-Type", "application/json");
        headers.put("Content-Length", String.valueOf(big.length));
        expectRejected("PUT 2 MiB body", send("PUT", "/products/" + WRITE_TARGET, headers, big), 413, "field", "body");

        // Without Content-Length the front door must stop reading at the limit, not buffer the whole body.
        var chunkedHeaders = new LinkedHashMap<>(auth());
        chunkedHeaders.put("Content-Type", "application/json");
        chunkedHeaders.put("Transfer-Encoding", "chunked");
        expectRejected("PUT 2 MiB chunked body", send("PUT", "/products/" + WRITE_TARGET, chunkedHeaders, chunked(big)),
                413, "field", "body");
    }

    @Test
    void invalidUtf8IsRejected() throws Exception {
        String badUtf8 = "\u00C3("; // the bytes C3 28: a lead byte followed by a byte that cannot continue it
        expectRejected("body with invalid UTF-8", send("PUT", "/products/" + WRITE_TARGET, auth(),
                ("{\"name\": \"" + badUtf8 + "\"}").getBytes(StandardCharsets.ISO_8859_1)), 400, "field", "body");
        expectRejected("path %C3%28 (invalid UTF-8)", send("GET", "/products/%C3%28", Map.of(), null), 400, "field", "uri");
        expectRejected("path raw bytes C3 28", send("GET", "/products/" + badUtf8, Map.of(), null), 400, "field", "uri");
        expectRejected("query %C3%28 (invalid UTF-8)", send("GET", "/categories/1/products?page=%C3%28", Map.of(), null),
                400, "field", "page");
        // Jetty passes raw bytes in a query through as U+FFFD, which no parameter accepts.
        expectRejected("query raw bytes C3 28", send("GET", "/categories/1/products?page=" + badUtf8, Map.of(), null),
                400, "field", "page");
        expectRejected("X-Client-Id invalid UTF-8", send("GET", "/products/1", Map.of("X-Client-Id", "a" + badUtf8), null),
                400, "field", "X-Client-Id");
        expectRejected("X-Client-Region invalid UTF-8", send("GET", "/products/1", Map.of("X-Client-Region", badUtf8), null),
                400, "field", "X-Client-Region");
        expectRejected("Authorization invalid UTF-8", send("PUT", "/products/" + WRITE_TARGET,
                Map.of("Authorization", "Bearer " + badUtf8), json("{\"stock\": 1}")), 401, "reason", "malformed");
        expectRejected("If-Match invalid UTF-8", send("PUT", "/products/" + WRITE_TARGET, withAuth("If-Match", badUtf8),
                json("{\"stock\": 1}")), 400, "field", "If-Match");
    }

    @Test
    void hugeHeadersAreRejected() throws Exception {
        expectRejected("one 64 KiB header", send("GET", "/products/1", Map.of("X-Padding", "a".repeat(64 * 1024)), null),
                431, "field", "headers");
        var many = new LinkedHashMap<String, String>();
        for (int i = 0; i < 2_000; i++) {
            many.put("X-Padding-" + i, "value-" + i);
        }
        expectRejected("2000 headers", send("GET", "/products/1", many, null), 431, "field", "headers");
        expectRejected("64 KiB request target", send("GET", "/products/" + "1".repeat(64 * 1024), Map.of(), null), 414,
                "field", "uri");
    }

    @Test
    void staticPathTraversalNeverLeavesAssets() throws Exception {
        List<String> traversals = List.of(
                "/static/../../etc/passwd",
                "/static/%2e%2e/%2e%2e/etc/passwd",
                "/static/%252e%252e/%252e%252e/etc/passwd",
                "/static/..%2f..%2fetc%2fpasswd",
                "/static/..%252f..%252fetc%252fpasswd",
                "/static/css/..%5c..%5cetc%5cpasswd",
                "/static/css/site.css%00.txt",
                "/static/%2e/css/site.css");
        for (String target : traversals) {
            RawHttp.Response response = send("GET", target, Map.of(), null);
            expectRejected("GET " + target, response, -400, null, null);
            assertThat(response.body()).as(target).doesNotContain("root:");
        }

        // A '.' segment stays inside the asset root: Jetty removes it (RFC 3986 section 5.2.4) and the asset is served.
        RawHttp.Response dotSegment = send("GET", "/static/css/./site.css", Map.of(), null);
        summary.add(new String[] {"HTTP", "GET /static/css/./site.css", "302 to " + ASSET, dotSegment.status() + " to "
                + dotSegment.header("Location")});
        assertThat(dotSegment.status()).isEqualTo(302);
        assertThat(dotSegment.header("Location")).endsWith("/static" + ASSET);

        URI edge = stack.edgeUris().get("us-east");
        for (String target : List.of("/static/%252e%252e/%252e%252e/etc/passwd", "/static/..%252f..%252fetc%252fpasswd")) {
            RawHttp.Response response = RawHttp.send(edge, RawHttp.head("GET", target, Map.of("Host", LocalStack.SITE)), null);
            expectRejected("edge GET " + target, response, -400, null, null);
            assertThat(response.body()).as(target).doesNotContain("root:");
        }
    }

    @Test
    void sqlMetacharactersLeaveDataIntact() throws Exception {
        String before = dataFingerprint();

        for (String payload : SQL_PAYLOADS) {
            String segment = encodePathSegment(payload);
            String query = java.net.URLEncoder.encode(payload, StandardCharsets.UTF_8);
            String shown = printable(payload);
            // Jetty rejects an encoded '\' ("Suspicious Path Character") or NUL (only "Bad Request") in a path before
            // the request reaches the application, so the front door names the URI or the request instead of the id.
            boolean frontDoorRejects = payload.contains("\\") || payload.contains("\u0000");
            String idField = payload.contains("\u0000") ? "request" : payload.contains("\\") ? "uri" : "id";
            expectRejected("GET /products/" + shown, send("GET", "/products/" + segment, Map.of(), null), 400, "field", idField);
            expectRejected("PUT /products/" + shown, send("PUT", "/products/" + segment, auth(), json("{\"stock\": 1}")), 400, "field", idField);
            expectRejected("DELETE /products/" + shown, send("DELETE", "/products/" + segment, auth(), null), 400, "field", idField);
            expectRejected("GET /categories/" + shown + "/products", send("GET", "/categories/" + segment + "/products", Map.of(), null),
                    400, "field", idField);
            expectRejected("GET ?page=" + shown, send("GET", "/categories/1/products?page=" + query, Map.of(), null), 400, "field", "page");
            expectRejected("GET ?size=" + shown, send("GET", "/categories/1/products?size=" + query, Map.of(), null), 400, "field", "size");
            expectRejected("GET /accounts/" + shown, send("GET", "/accounts/" + segment, auth(), null), 400, "field", idField);
            expectRejected("GET /static/" + shown, send("GET", "/static/" + segment, Map.of(), null), 400, "field",
                    frontDoorRejects ? idField : "path");
            expectRejected("If-Match: " + shown, send("PUT", "/products/" + WRITE_TARGET, withAuth("If-Match", headerSafe(payload)),
                    json("{\"stock\": 1}")), 400, "field", "If-Match");
            expectRejected("X-Client-Id: " + shown, send("GET", "/products/1", Map.of("X-Client-Id", headerSafe(payload)), null),
                    400, "field", "X-Client-Id");
        }

        for (String payload : SQL_PAYLOADS) {
            // An ordered map puts "name" first, so a payload invalid in both fields is reported for "name".
            var fields = new LinkedHashMap<String, String>();
            fields.put("name", payload);
            fields.put("description", payload);
            String body = Json.mapper().writeValueAsString(fields);
            RawHttp.Response response = send("PUT", "/products/" + WRITE_TARGET, auth(), json(body));
            if (payload.indexOf('\u0000') >= 0) {
                // PostgreSQL text cannot hold NUL, so the API must reject it rather than fail in the database.
                expectRejected("PUT name " + printable(payload), response, 400, "field", "name");
                continue;
            }
            expectAccepted("PUT name " + printable(payload), response, 200);
            assertThat(storedName(WRITE_TARGET)).as("name stored literally").isEqualTo(payload);
        }
        String newProduct = Json.mapper().writeValueAsString(Map.of("categoryId", 1, "name", SQL_PAYLOADS.get(1),
                "description", SQL_PAYLOADS.get(0), "priceCents", 1, "stock", 1));
        RawHttp.Response created = send("POST", "/products", auth(), json(newProduct));
        expectAccepted("POST name " + printable(SQL_PAYLOADS.get(1)), created, 201);
        long createdId = Json.mapper().readTree(created.body()).get("id").asLong();
        assertThat(storedName(createdId)).isEqualTo(SQL_PAYLOADS.get(1));

        assertThat(dataFingerprint()).as("rows the battery did not write").isEqualTo(before);
        assertThat(send("GET", "/products/1", Map.of(), null).status()).isEqualTo(200);
    }

    @Test
    void batchLinesAreCheckedOneByOne() throws Exception {
        List<String[]> badLines = List.of(
                new String[] {"truncated JSON", "{\"path\": \"/products/1\"", "line"},
                new String[] {"JSON array", "[\"/products/1\"]", "line"},
                new String[] {"unknown field", "{\"path\": \"/products/1\", \"verb\": \"GET\"}", "verb"},
                new String[] {"path as object", "{\"path\": {\"a\": 1}}", "path"},
                new String[] {"path traversal", "{\"path\": \"/static/../../etc/passwd\"}", "path"},
                new String[] {"encoded slash", "{\"path\": \"/static/..%2f..%2fetc/passwd\"}", "path"},
                new String[] {"NUL in path", "{\"path\": \"/products/1%00\"}", "path"},
                new String[] {"absolute URI", "{\"path\": \"http://169.254.169.254/latest\"}", "path"},
                new String[] {"invalid region", "{\"path\": \"/products/1\", \"region\": \"EU West\"}", "region"},
                new String[] {"CRLF in a header", "{\"path\": \"/products/1\", \"headers\": {\"x-a\": \"1\\r\\nx-b: 2\"}}", "headers.x-a"},
                new String[] {"SQL in the client id", "{\"path\": \"/products/1\", \"clientId\": \"' OR 1=1 --\"}", "clientId"});
        var body = new StringBuilder("{\"path\": \"/products/3\", \"clientId\": \"battery-batch\"}\n");
        for (String[] line : badLines) {
            body.append(line[1]).append('\n');
        }
        // The bytes C3 28 inside a JSON string: a UTF-8 lead byte followed by a byte that cannot continue it.
        body.append("{\"path\": \"/products/1\", \"body\": \"\u00C3(\"}\n");

        RawHttp.Response response = send("POST", "/_backbone/requests", Map.of("Content-Type", "application/x-ndjson"),
                body.toString().getBytes(StandardCharsets.ISO_8859_1));

        assertThat(response.status()).as(response.body()).isEqualTo(207);
        JsonNode answer = Json.mapper().readTree(response.body());
        assertThat(answer.get("accepted").asInt()).isEqualTo(1);
        JsonNode errors = answer.get("errors");
        assertThat(errors).hasSize(badLines.size() + 1);
        for (int i = 0; i <= badLines.size(); i++) {
            JsonNode error = errors.get(i);
            String name = i < badLines.size() ? badLines.get(i)[0] : "invalid UTF-8";
            String field = i < badLines.size() ? badLines.get(i)[2] : "line";
            summary.add(new String[] {"batch line", name, "400 field=" + field,
                    error.get("status").asInt() + " field=" + error.path("field").asText() + ": "
                            + shorten(error.path("message").asText())});
            assertThat(error.get("line").asInt()).as(name).isEqualTo(i + 2);
            assertThat(error.get("status").asInt()).as(name).isEqualTo(400);
            assertThat(error.path("field").asText()).as(name).isEqualTo(field);
            assertThat(error.path("accepted").asText()).as(name).isNotBlank();
        }

        // The accepted line is answered by an app server on the front door's reply partition (0), keyed by its id.
        String requestId = answer.get("requestIdPrefix").asText() + "1";
        try (var responses = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            var replies = new TopicPartition(Topics.RESPONSES.name(), 0);
            responses.assign(List.of(replies));
            responses.seekToBeginning(List.of(replies));
            var statuses = new ArrayList<Integer>();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                for (var record : responses.poll(Duration.ofMillis(200))) {
                    if (requestId.equals(new String(record.key(), StandardCharsets.UTF_8))) {
                        statuses.add(Topics.RESPONSES.valueSerde().deserializer().deserialize(record.topic(), record.value()).status());
                    }
                }
                assertThat(statuses).containsExactly(200);
            });
        }
        summary.add(new String[] {"batch line", "the valid line of the same batch", "answered 200", "answered 200"});

        RawHttp.Response allBad = send("POST", "/_backbone/requests", Map.of(), "not json\n".getBytes(StandardCharsets.UTF_8));
        expectRejected("batch of one bad line", allBad, 400, null, null);
        expectRejected("GET of the batch path", send("GET", "/_backbone/requests", Map.of(), null), 405, "field", "method");
    }

    @Test
    void tamperedTokensAre401() throws Exception {
        String valid = token;
        int dot = valid.indexOf('.');
        String payload = valid.substring(0, dot);
        String signature = valid.substring(dot + 1);
        Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
        JsonNode claims = Json.mapper().readTree(Base64.getUrlDecoder().decode(payload));
        String otherPayload = base64.encodeToString(((ObjectNode) claims.deepCopy()).put("sub", "admin").toString()
                .getBytes(StandardCharsets.UTF_8));
        String longerLife = base64.encodeToString(((ObjectNode) claims.deepCopy())
                .put("exp", claims.get("exp").asLong() + 365 * 86_400L).toString().getBytes(StandardCharsets.UTF_8));
        char last = signature.charAt(signature.length() - 2);
        String flippedSignature = signature.substring(0, signature.length() - 2) + (last == 'A' ? 'B' : 'A')
                + signature.charAt(signature.length() - 1);
        String expired = new TokenSigner(stack.options().authSecret().getBytes(StandardCharsets.UTF_8),
                Clock.fixed(Instant.now().minus(Duration.ofDays(1)), ZoneOffset.UTC)).mint("battery", Duration.ofMinutes(5));
        String otherSecret = new TokenSigner("another secret of at least thirty-two bytes".getBytes(StandardCharsets.UTF_8))
                .mint("battery", Duration.ofHours(1));
        String noneHeader = base64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String hsHeader = base64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));

        Map<String, String[]> cases = new LinkedHashMap<>();
        cases.put("no Authorization", new String[] {null, "missing"});
        cases.put("Basic scheme", new String[] {"Basic YWRtaW46YWRtaW4=", "malformed"});
        cases.put("changed payload (sub)", new String[] {"Bearer " + otherPayload + "." + signature, "bad_signature"});
        cases.put("changed payload (exp)", new String[] {"Bearer " + longerLife + "." + signature, "bad_signature"});
        cases.put("changed signature", new String[] {"Bearer " + payload + "." + flippedSignature, "bad_signature"});
        cases.put("signature removed", new String[] {"Bearer " + payload + ".", "malformed"});
        cases.put("expired", new String[] {"Bearer " + expired, "expired"});
        cases.put("signed with another secret", new String[] {"Bearer " + otherSecret, "bad_signature"});
        cases.put("alg none, JWT form", new String[] {"Bearer " + noneHeader + "." + payload + ".", "malformed"});
        cases.put("alg HS256 header added", new String[] {"Bearer " + hsHeader + "." + payload + "." + signature, "malformed"});
        cases.put("token of 5000 characters", new String[] {"Bearer " + "a".repeat(5_000), "malformed"});

        long priceBefore = storedPrice(WRITE_TARGET);
        for (var entry : cases.entrySet()) {
            Map<String, String> headers = entry.getValue()[0] == null ? Map.of() : Map.of("Authorization", entry.getValue()[0]);
            RawHttp.Response response = send("PUT", "/products/" + WRITE_TARGET, headers, json("{\"priceCents\": 1}"));
            expectRejected("token: " + entry.getKey(), response, 401, "reason", entry.getValue()[1]);
            assertThat(response.header("WWW-Authenticate")).as(entry.getKey()).startsWith("Bearer");
        }
        assertThat(storedPrice(WRITE_TARGET)).as("price after rejected writes").isEqualTo(priceBefore);
        expectAccepted("token: valid, as a control", send("PUT", "/products/" + WRITE_TARGET, auth(),
                json("{\"priceCents\": " + priceBefore + "}")), 200);
    }

    // ---------------------------------------------------------------- topics

    @Test
    void clientRequestsConsumerSurvivesBadRecords() throws Exception {
        String client = "battery-client-requests";
        ObjectNode valid = Json.mapper().valueToTree(new ClientRequest(ClientRequest.SCHEMA_VERSION, "r-1", client, "us-east",
                "US", LocalStack.SITE, "GET", "/products/1", "", Map.of(), null, "ingest-1", 0, 1, 2));
        var wrongTypes = valid.deepCopy().put("replyPartition", "zero");
        wrongTypes.put("headers", "accept: */*");
        var records = badRecords(Topics.CLIENT_REQUESTS, client.getBytes(StandardCharsets.UTF_8), -1, wrongTypes,
                valid.deepCopy().put("schemaVersion", 99));
        records.put("null value", produce(Topics.CLIENT_REQUESTS, -1, client.getBytes(StandardCharsets.UTF_8), null));

        expectDeadLetters(Topics.CLIENT_REQUESTS, records, "HTTP GET with the same client id is answered 200", () -> {
            // Same key, same partition: the routing task of that partition must have moved past the bad records.
            assertThat(send("GET", "/products/1", Map.of("X-Client-Id", client), null).status()).isEqualTo(200);
        });
    }

    @Test
    void dnsRecordsConsumerSurvivesBadRecords() throws Exception {
        String host = "battery-dns.example";
        ObjectNode valid = Json.mapper().valueToTree(new DnsRecord(DnsRecord.SCHEMA_VERSION, host, DnsRecord.GLOBAL,
                DnsRecord.Type.A, LocalStack.LOAD_BALANCERS, null, 60, 1));
        byte[] key = ("global/" + host).getBytes(StandardCharsets.UTF_8);
        var records = badRecords(Topics.DNS_RECORDS, key, -1, valid.deepCopy().put("ttlSeconds", "sixty"),
                valid.deepCopy().put("schemaVersion", 99));

        produce(Topics.DNS_RECORDS, -1, key, Json.mapper().writeValueAsBytes(valid));
        expectDeadLetters(Topics.DNS_RECORDS, records, "a valid record for " + host + " resolves through the front door", () ->
                assertThat(send("GET", "/products/1", Map.of("X-Client-Id", "battery-dns", "Host", host), null).status())
                        .isEqualTo(200));
    }

    @Test
    void heartbeatsConsumerSurvivesBadRecords() throws Exception {
        String pool = "battery-pool";
        String server = "lb-battery";
        ObjectNode valid = Json.mapper().valueToTree(new Heartbeat(Heartbeat.SCHEMA_VERSION, server, Heartbeat.Kind.LOAD_BALANCER,
                pool, Heartbeat.State.UP, List.of(), 1, 1, System.currentTimeMillis()));
        byte[] key = server.getBytes(StandardCharsets.UTF_8);
        var wrongTypes = valid.deepCopy().put("weight", "heavy");
        wrongTypes.put("partitions", "all");
        var records = badRecords(Topics.LB_HEARTBEATS, key, -1, wrongTypes, valid.deepCopy().put("schemaVersion", 99));

        produce(Topics.LB_HEARTBEATS, -1, key, Json.mapper().writeValueAsBytes(valid));
        expectDeadLetters(Topics.LB_HEARTBEATS, records, "a valid heartbeat shows " + server + " in pool " + pool, () -> {
            var response = http.send(HttpRequest.newBuilder(stack.routingApiUri().resolve("api/lb/pools/" + pool)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).contains(server);
        });
    }

    @Test
    void routedRequestsConsumerSurvivesBadRecords() throws Exception {
        int partition = 7;
        int replyPartition = 5;
        String requestId = "battery-" + UUID.randomUUID();
        long now = System.currentTimeMillis();
        var request = new ClientRequest(ClientRequest.SCHEMA_VERSION, requestId, "battery-routed", "us-east", "US",
                LocalStack.SITE, "GET", "/products/1", "", Map.of(), null, "battery", replyPartition, now, now + 60_000);
        ObjectNode valid = Json.mapper().valueToTree(new RoutedRequest(RoutedRequest.SCHEMA_VERSION, request, "global", "lb-1",
                List.of(), LocalStack.POOL, "app-1", "battery-routed", false, now));
        var wrongTypes = valid.deepCopy().put("request", "GET /products/1");
        wrongTypes.put("skippedAddresses", 3);
        byte[] key = "battery-routed".getBytes(StandardCharsets.UTF_8);
        var records = badRecords(Topics.ROUTED_REQUESTS, key, partition, wrongTypes, valid.deepCopy().put("schemaVersion", 99));

        try (var responses = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            var replies = new TopicPartition(Topics.RESPONSES.name(), replyPartition);
            responses.assign(List.of(replies));
            responses.seekToBeginning(List.of(replies));
            produce(Topics.ROUTED_REQUESTS, partition, key, Json.mapper().writeValueAsBytes(valid));
            var answered = new ArrayList<ClientResponse>();
            expectDeadLetters(Topics.ROUTED_REQUESTS, records, "a valid request on partition " + partition + " is answered 200", () -> {
                for (var record : responses.poll(Duration.ofMillis(200))) {
                    answered.add(Topics.RESPONSES.valueSerde().deserializer().deserialize(record.topic(), record.value()));
                }
                assertThat(answered).filteredOn(response -> response.requestId().equals(requestId))
                        .extracting(ClientResponse::status).containsExactly(200);
            });
        }
    }

    @Test
    void responsesConsumerSurvivesBadRecords() throws Exception {
        ObjectNode valid = Json.mapper().valueToTree(new ClientResponse(ClientResponse.SCHEMA_VERSION, "battery-response", 200,
                Map.of(), "", "battery", 1));
        var wrongTypes = valid.deepCopy().put("status", "OK");
        wrongTypes.put("headers", "[]");
        // Partition 0 is the front door's reply partition (reply.partition defaults to 0).
        var records = badRecords(Topics.RESPONSES, "battery-response".getBytes(StandardCharsets.UTF_8), 0, wrongTypes,
                valid.deepCopy().put("schemaVersion", 99));

        expectDeadLetters(Topics.RESPONSES, records, "the next HTTP request through the front door is answered 200", () ->
                assertThat(send("GET", "/products/2", Map.of(), null).status()).isEqualTo(200));
    }

    @Test
    void dbChangesConsumerSurvivesBadRecords() throws Exception {
        byte[] key = ("public.products:" + CHANGE_TARGET).getBytes(StandardCharsets.UTF_8);
        ObjectNode valid = (ObjectNode) Json.mapper().readTree("{\"op\": \"u\", \"ts_ms\": 2, \"source\": {\"schema\": \"public\","
                + " \"table\": \"products\", \"ts_ms\": 1}, \"before\": null, \"after\": {\"id\": " + CHANGE_TARGET + ", \"version\": 1}}");
        ObjectNode wrongTypes = valid.deepCopy();
        ((ObjectNode) wrongTypes.get("source")).put("ts_ms", "yesterday");
        // Debezium events carry no schemaVersion; the operation code is what a newer format could change.
        var records = badRecords(Topics.DB_CHANGES, key, -1, wrongTypes, valid.deepCopy().put("op", "z"));
        records.put("after is a string", produce(Topics.DB_CHANGES, -1, key,
                Json.mapper().writeValueAsBytes(valid.deepCopy().put("after", "id=9"))));

        long version;
        try (Connection connection = DriverManager.getConnection(stack.jdbcUrl());
             Statement statement = connection.createStatement();
             ResultSet updated = statement.executeQuery("UPDATE products SET stock = stock + 1 WHERE id = " + CHANGE_TARGET
                     + " RETURNING version")) {
            assertThat(updated.next()).isTrue();
            version = updated.getLong(1);
        }
        try (var invalidations = allPartitionsConsumer(Topics.CACHE_INVALIDATIONS)) {
            var seen = new ArrayList<Invalidation>();
            expectDeadLetters(Topics.DB_CHANGES, records, "a later SQL update of product " + CHANGE_TARGET
                    + " is turned into an invalidation", () -> {
                for (var record : invalidations.poll(Duration.ofMillis(200))) {
                    readInvalidation(record).ifPresent(seen::add);
                }
                assertThat(seen).anyMatch(invalidation -> invalidation.cacheKey().equals("product:" + CHANGE_TARGET)
                        && invalidation.version() == version);
            });
        }
    }

    @Test
    void cacheInvalidationsConsumerSurvivesBadRecords() throws Exception {
        String cacheKey = "product:" + INVALIDATION_TARGET;
        String client = "battery-invalidations";
        String path = "/products/" + INVALIDATION_TARGET;
        send("GET", path, Map.of("X-Client-Id", client), null);
        assertThat(send("GET", path, Map.of("X-Client-Id", client), null).header("X-Backbone-Cache"))
                .as("second read is served from L1").isEqualTo("l1");

        ObjectNode valid = Json.mapper().valueToTree(new Invalidation(Invalidation.SCHEMA_VERSION, cacheKey, -1, "u", 0, 0));
        var wrongTypes = valid.deepCopy().put("version", "new");
        wrongTypes.putArray("cacheKey").add(cacheKey);
        var records = badRecords(Topics.CACHE_INVALIDATIONS, cacheKey.getBytes(StandardCharsets.UTF_8), -1, wrongTypes,
                valid.deepCopy().put("schemaVersion", 99));
        records.put("malformed cache key", produce(Topics.CACHE_INVALIDATIONS, -1, cacheKey.getBytes(StandardCharsets.UTF_8),
                Json.mapper().writeValueAsBytes(valid.deepCopy().put("cacheKey", "product:'; DROP TABLE products"))));

        produce(Topics.CACHE_INVALIDATIONS, -1, cacheKey.getBytes(StandardCharsets.UTF_8), Json.mapper().writeValueAsBytes(valid));
        expectDeadLetters(Topics.CACHE_INVALIDATIONS, records, "a valid invalidation evicts " + cacheKey + " from L1", () ->
                assertThat(send("GET", path, Map.of("X-Client-Id", client), null).header("X-Backbone-Cache")).isEqualTo("database"));
    }

    @Test
    void cdnPurgesConsumerSurvivesBadRecords() throws Exception {
        URI edge = stack.edgeUris().get("us-east");
        String surrogateKey = "asset:" + ASSET;
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(edgeGet(edge).headers().firstValue("X-Cache").orElse("")).isEqualTo("HIT"));

        ObjectNode valid = Json.mapper().valueToTree(new PurgeRequest(PurgeRequest.SCHEMA_VERSION, surrogateKey, false, 0,
                System.currentTimeMillis()));
        var wrongTypes = valid.deepCopy().put("soft", "maybe");
        wrongTypes.putObject("surrogateKey").put("key", surrogateKey);
        var records = badRecords(Topics.CDN_PURGES, surrogateKey.getBytes(StandardCharsets.UTF_8), -1, wrongTypes,
                valid.deepCopy().put("schemaVersion", 99));

        produce(Topics.CDN_PURGES, -1, surrogateKey.getBytes(StandardCharsets.UTF_8), Json.mapper().writeValueAsBytes(valid));
        expectDeadLetters(Topics.CDN_PURGES, records, "a valid purge of " + surrogateKey + " empties the us-east edge", () ->
                assertThat(edgeGet(edge).headers().firstValue("X-Cache").orElse("")).isEqualTo("MISS"));
    }

    // ---------------------------------------------------------------- helpers: HTTP

    private RawHttp.Response send(String method, String target, Map<String, String> headers, byte[] body) throws Exception {
        var all = new LinkedHashMap<String, String>();
        all.put("Host", LocalStack.SITE);
        all.put("X-Client-Id", "battery-" + clients.incrementAndGet());
        all.putAll(headers);
        if (body != null && !all.containsKey("Content-Length") && !all.containsKey("Transfer-Encoding")) {
            all.put("Content-Length", String.valueOf(body.length));
            all.putIfAbsent("Content-Type", "application/json");
        }
        return RawHttp.send(stack.frontDoorUri(), RawHttp.head(method, target, all), body);
    }

    private HttpResponse<String> edgeGet(URI edge) throws Exception {
        return http.send(HttpRequest.newBuilder(edge.resolve("static" + ASSET)).header("Host", LocalStack.SITE)
                        .timeout(Duration.ofSeconds(20)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private Map<String, String> auth() {
        return Map.of("Authorization", "Bearer " + token);
    }

    private Map<String, String> withAuth(String name, String value) {
        return Map.of("Authorization", "Bearer " + token, name, value);
    }

    private static byte[] json(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] chunked(byte[] body) {
        var out = new java.io.ByteArrayOutputStream();
        int chunk = 64 * 1024;
        for (int offset = 0; offset < body.length; offset += chunk) {
            int length = Math.min(chunk, body.length - offset);
            out.writeBytes((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(body, offset, length);
            out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        return out.toByteArray();
    }

    private static String encodePathSegment(String value) {
        return java.net.URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Returns the value as it can travel in a header: NUL, which HTTP forbids in field values, is sent as "%00". */
    private static String headerSafe(String value) {
        return value.replace("\u0000", "%00");
    }

    private static String printable(String value) {
        return value.replace("\u0000", "\\0");
    }

    /**
     * Records the case and checks a rejection: the status ({@code -400} for any 4xx), and for JSON bodies from the
     * application, a message plus {@code detailName} equal to {@code detailValue}.
     */
    private void expectRejected(String name, RawHttp.Response response, int status, String detailName, String detailValue) {
        String expected = (status == -400 ? "4xx" : String.valueOf(status)) + (detailName == null ? "" : " " + detailName + "=" + detailValue);
        JsonNode body = jsonOrNull(response.body());
        String seenDetail = body != null && detailName != null && body.hasNonNull(detailName) ? " " + detailName + "=" + body.get(detailName).asText() : "";
        String message = body != null && body.hasNonNull("message") ? body.get("message").asText() : firstLine(response.body());
        summary.add(new String[] {"HTTP", name, expected, response.status() + seenDetail + ": " + shorten(message)});

        if (status == -400) {
            assertThat(response.status()).as("%s: status; body %s", name, response.body()).isBetween(400, 499);
        } else {
            assertThat(response.status()).as("%s: status; body %s", name, response.body()).isEqualTo(status);
        }
        assertThat(message).as("%s: message", name).isNotBlank();
        if (detailName != null) {
            assertThat(body).as("%s: JSON body %s", name, response.body()).isNotNull();
            assertThat(body.path(detailName).asText()).as("%s: %s", name, detailName).isEqualTo(detailValue);
            if (detailName.equals("field")) {
                assertThat(body.path("accepted").asText()).as("%s: accepted", name).isNotBlank();
            }
        }
    }

    private void expectAccepted(String name, RawHttp.Response response, int status) {
        summary.add(new String[] {"HTTP", name, String.valueOf(status), String.valueOf(response.status())});
        assertThat(response.status()).as("%s: status; body %s", name, response.body()).isEqualTo(status);
    }

    private static JsonNode jsonOrNull(String text) {
        try {
            JsonNode node = Json.mapper().readTree(text);
            return node != null && node.isObject() ? node : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static String firstLine(String text) {
        String stripped = text.replaceAll("<[^>]*>", " ").replaceAll("\\s+", " ").trim();
        return stripped;
    }

    private static String shorten(String text) {
        return text.length() <= 90 ? text : text.substring(0, 87) + "...";
    }

    // ---------------------------------------------------------------- helpers: data

    private String dataFingerprint() throws Exception {
        String sql = "SELECT (SELECT md5(string_agg(id || ':' || category_id || ':' || name || ':' || description || ':'"
                + " || price_cents || ':' || stock || ':' || version, ',' ORDER BY id)) FROM products WHERE id NOT IN ("
                + WRITE_TARGET + ", " + CHANGE_TARGET + ", " + INVALIDATION_TARGET + ") AND id <= " + stack.options().products() + "),"
                + " (SELECT md5(string_agg(id || ':' || name, ',' ORDER BY id)) FROM categories),"
                + " (SELECT md5(string_agg(id || ':' || email || ':' || verified, ',' ORDER BY id)) FROM accounts),"
                + " (SELECT md5(string_agg(path || ':' || version, ',' ORDER BY path)) FROM static_assets)";
        try (Connection connection = DriverManager.getConnection(stack.jdbcUrl());
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(sql)) {
            assertThat(rows.next()).isTrue();
            return rows.getString(1) + " " + rows.getString(2) + " " + rows.getString(3) + " " + rows.getString(4);
        }
    }

    private String storedName(long id) throws Exception {
        return (String) column("name", id);
    }

    private long storedPrice(long id) throws Exception {
        return ((Number) column("price_cents", id)).longValue();
    }

    private Object column(String column, long id) throws Exception {
        try (Connection connection = DriverManager.getConnection(stack.jdbcUrl());
             var statement = connection.prepareStatement("SELECT " + column + " FROM products WHERE id = ?")) {
            statement.setLong(1, id);
            try (ResultSet rows = statement.executeQuery()) {
                assertThat(rows.next()).as("product %d exists", id).isTrue();
                return rows.getObject(1);
            }
        }
    }

    // ---------------------------------------------------------------- helpers: topics

    /** A produced record: its partition and offset. */
    private record Produced(int partition, long offset, byte[] value) {
    }

    /**
     * Produces the four bad records every consumed topic gets: bytes that are not UTF-8 JSON, valid JSON of the wrong
     * shape, the event with wrong field types, and the event with an unknown schema version.
     *
     * @param partition the partition to write to, or -1 to let the key choose it
     */
    private Map<String, Produced> badRecords(Topic<?, ?> topic, byte[] key, int partition, JsonNode wrongTypes,
                                             JsonNode unknownVersion) throws Exception {
        var records = new LinkedHashMap<String, Produced>();
        records.put("garbage bytes", produce(topic, partition, key, new byte[] {(byte) 0xC3, 0x28, 0x00, (byte) 0xFF, '{', '"'}));
        records.put("JSON of wrong shape", produce(topic, partition, key, json("[\"not\", \"an\", \"event\"]")));
        records.put("wrong field types", produce(topic, partition, key, Json.mapper().writeValueAsBytes(wrongTypes)));
        records.put(topic == Topics.DB_CHANGES ? "unknown op code" : "unknown schemaVersion",
                produce(topic, partition, key, Json.mapper().writeValueAsBytes(unknownVersion)));
        return records;
    }

    private Produced produce(Topic<?, ?> topic, int partition, byte[] key, byte[] value) throws Exception {
        var record = partition < 0 ? new ProducerRecord<>(topic.name(), key, value)
                : new ProducerRecord<>(topic.name(), partition, key, value);
        RecordMetadata metadata = producer.send(record).get();
        return new Produced(metadata.partition(), metadata.offset(), value);
    }

    /** Returns the invalidation of a record, or empty for the bad records that other cases of the battery wrote. */
    private static java.util.Optional<Invalidation> readInvalidation(ConsumerRecord<byte[], byte[]> record) {
        try {
            return java.util.Optional.ofNullable(Topics.CACHE_INVALIDATIONS.valueSerde().deserializer()
                    .deserialize(record.topic(), record.value()));
        } catch (org.apache.kafka.common.errors.SerializationException e) {
            return java.util.Optional.empty();
        }
    }

    private KafkaConsumer<byte[], byte[]> allPartitionsConsumer(Topic<?, ?> topic) {
        var consumer = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        var partitions = new ArrayList<TopicPartition>();
        for (int i = 0; i < topic.partitions(); i++) {
            partitions.add(new TopicPartition(topic.name(), i));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    /**
     * Waits until every record has a dead letter with its coordinates, original value and an error, then until the
     * consumer has processed a valid record produced after them, and records one summary row per bad record.
     */
    private void expectDeadLetters(Topic<?, ?> topic, Map<String, Produced> records, String proof,
                                   org.awaitility.core.ThrowingRunnable processed) {
        for (var entry : records.entrySet()) {
            Produced produced = entry.getValue();
            String name = topic.name().substring("backbone.".length()) + ": " + entry.getKey();
            String expected = "dead letter @" + produced.partition() + ":" + produced.offset();
            DeadLetter letter;
            try {
                letter = deadLetters.await(topic.name(), produced.partition(), produced.offset());
            } catch (RuntimeException e) {
                summary.add(new String[] {"topic", name, expected, "no dead letter"});
                throw e;
            }
            summary.add(new String[] {"topic", name, expected, "dead letter @" + letter.partition() + ":" + letter.offset()
                    + " by " + letter.consumer() + ": " + shorten(letter.error())});
            assertThat(letter.error()).as(name).isNotBlank();
            assertThat(letter.errorClass()).as(name).isNotBlank();
            assertThat(letter.consumer()).as(name).isNotBlank();
            assertThat(letter.valueBase64()).as(name).isEqualTo(produced.value() == null ? null
                    : Base64.getEncoder().encodeToString(produced.value()));
        }
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).untilAsserted(processed);
        } catch (RuntimeException | AssertionError e) {
            summary.add(new String[] {"topic", topic.name().substring("backbone.".length()) + ": valid record after them",
                    "processed", "not processed: " + shorten(String.valueOf(e.getMessage()))});
            throw e;
        }
        summary.add(new String[] {"topic", topic.name().substring("backbone.".length()) + ": valid record after them",
                "processed", "processed: " + proof});
    }

    private void printSummary() {
        int[] widths = {5, 4, 8, 4};
        for (String[] row : summary) {
            for (int i = 0; i < 3; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        var out = new StringBuilder("\nBad-input battery: " + summary.size() + " cases\n");
        String format = "%-" + widths[0] + "s  %-" + widths[1] + "s  %-" + widths[2] + "s  %s%n";
        out.append(String.format(format, "where", "case", "expected", "seen"));
        synchronized (summary) {
            for (String[] row : summary) {
                out.append(String.format(format, (Object[]) row));
            }
        }
        System.out.println(out);
    }

    /** Reads {@code backbone.dead-letters} from its start and keeps every letter read so far. Used on the test thread only. */
    private static final class DeadLetterLog implements AutoCloseable {

        private final KafkaConsumer<byte[], byte[]> consumer;
        private final List<DeadLetter> letters = new ArrayList<>();

        DeadLetterLog(String bootstrapServers) {
            consumer = new KafkaConsumer<>(Map.<String, Object>of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    ConsumerConfig.GROUP_ID_CONFIG, "bad-input-it-" + UUID.randomUUID(),
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new ByteArrayDeserializer(), new ByteArrayDeserializer());
            consumer.subscribe(List.of(Topics.DEAD_LETTERS.name()));
        }

        DeadLetter await(String topic, int partition, long offset) {
            return org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ZERO)
                    .until(() -> {
                        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                            letters.add(Topics.DEAD_LETTERS.valueSerde().deserializer().deserialize(record.topic(), record.value()));
                        }
                        return letters.stream().filter(letter -> letter.topic().equals(topic) && letter.partition() == partition
                                && letter.offset() == offset).findFirst().orElse(null);
                    }, java.util.Objects::nonNull);
        }

        @Override
        public void close() {
            consumer.close(Duration.ofSeconds(5));
        }
    }
}
