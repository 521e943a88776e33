package dev.backbone.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.Json;
import dev.backbone.events.Settings;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class BatchIngestTest {

    private static final BatchLineValidation.Defaults DEFAULTS = new BatchLineValidation.Defaults("shop.example.com", "batch-client",
            "us-east", "US");

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MockProducer<String, ClientRequest> producer = producer(true);

    @Test
    void validLinesPublishedWithDefaults() throws Exception {
        String body = """
                {"path": "/products/42?currency=EUR", "clientId": "alice", "region": "eu-west", "country": "DE"}
                {"method": "put", "path": "/products/7", "headers": {"Content-Type": "application/json"}, "body": "{\\"priceCents\\":5}"}
                """;

        JsonNode answer = ingest(batch(Map.of()), body, 202);

        assertThat(answer.get("accepted").asInt()).isEqualTo(2);
        assertThat(answer.get("rejected").asInt()).isZero();
        List<ClientRequest> sent = producer.history().stream().map(ProducerRecord::value).toList();
        assertThat(sent).hasSize(2);
        ClientRequest first = sent.get(0);
        assertThat(first.requestId()).startsWith(ClientRequest.UNAWAITED_ID_PREFIX)
                .isEqualTo(answer.get("requestIdPrefix").asText() + "1");
        assertThat(answer.get("errors")).isEmpty();
        assertThat(first.method()).isEqualTo("GET");
        assertThat(first.path()).isEqualTo("/products/42");
        assertThat(first.query()).isEqualTo("currency=EUR");
        assertThat(first.clientId()).isEqualTo("alice");
        assertThat(first.region()).isEqualTo("eu-west");
        assertThat(first.country()).isEqualTo("DE");
        assertThat(first.host()).isEqualTo("shop.example.com");
        assertThat(first.deadlineAtMs()).isZero();
        assertThat(producer.history().get(0).key()).isEqualTo("alice");
        ClientRequest second = sent.get(1);
        assertThat(second.requestId()).isEqualTo(answer.get("requestIdPrefix").asText() + "2");
        assertThat(second.method()).isEqualTo("PUT");
        assertThat(second.clientId()).isEqualTo("batch-client");
        assertThat(second.region()).isEqualTo("us-east");
        assertThat(second.header("content-type")).isEqualTo("application/json");
        assertThat(second.body()).isEqualTo("{\"priceCents\":5}");
        assertThat(registry.get("backbone.ingest.batch.lines").tag("outcome", "accepted").counter().count()).isEqualTo(2);
    }

    @Test
    void badLinesRejectedOthersPublished() throws Exception {
        String body = String.join("\n",
                "{\"path\": \"/products/1\"}",
                "not json",
                "",
                "{\"path\": \"/products/2\", \"region\": \"EU West\"}",
                "{\"path\": \"/products/3\", \"colour\": \"red\"}",
                "{\"path\": \"/../etc/passwd\"}",
                "{\"path\": \"/products/4\", \"headers\": [\"x\"]}",
                "{\"method\": \"GET\"}",
                "{\"path\": \"/products/5\"}");

        JsonNode answer = ingest(batch(Map.of()), body, 207);

        assertThat(answer.get("accepted").asInt()).isEqualTo(2);
        assertThat(answer.get("rejected").asInt()).isEqualTo(6);
        JsonNode errors = answer.get("errors");
        // Line 3 is blank and skipped, but still counted in the line numbers.
        assertThat(errors).extracting(BatchIngestTest::lineAndStatus).containsExactly("2:400", "4:400", "5:400", "6:400",
                "7:400", "8:400");
        assertThat(errors.get(0).get("field").asText()).isEqualTo("line");
        assertThat(errors.get(1).get("field").asText()).isEqualTo("region");
        assertThat(errors.get(1).get("value").asText()).isEqualTo("EU West");
        assertThat(errors.get(1).get("accepted").asText()).contains("lower-case");
        assertThat(errors.get(2).get("field").asText()).isEqualTo("colour");
        assertThat(errors.get(2).get("message").asText()).contains("unknown field 'colour'");
        assertThat(errors.get(3).get("field").asText()).isEqualTo("path");
        assertThat(errors.get(4).get("field").asText()).isEqualTo("headers");
        assertThat(errors.get(5).get("message").asText()).contains("missing field 'path'");
        String prefix = answer.get("requestIdPrefix").asText();
        assertThat(producer.history()).extracting(record -> record.value().requestId()).containsExactly(prefix + "1", prefix + "9");
        assertThat(producer.history()).extracting(record -> record.value().path()).containsExactly("/products/1", "/products/5");
    }

    @Test
    void wrongTypesAndTrailingValuesAreRejected() throws Exception {
        String body = String.join("\n",
                "{\"path\": 42}",
                "{\"path\": \"/a\", \"body\": {\"priceCents\": 5}}",
                "{\"path\": \"/a\", \"headers\": {\"x-n\": 1}}",
                "{\"path\": \"/a\"} {\"path\": \"/b\"}",
                "null",
                "\"/a\"");

        JsonNode answer = ingest(batch(Map.of()), body, 400);

        assertThat(answer.get("errors")).extracting(error -> error.get("field").asText())
                .containsExactly("path", "body", "headers.x-n", "line", "line", "line");
        assertThat(answer.get("errors").get(0).get("message").asText()).contains("'path' must be a string");
        assertThat(answer.get("errors").get(3).get("message").asText()).contains("text follows the JSON object");
        assertThat(producer.history()).isEmpty();
    }

    @Test
    void singleRequestPathRulesApply() throws Exception {
        List<String> paths = List.of("products", "//evil.example/x", "/a%2fb", "/a\\b", "/a b", "/%zz", "/%FF", "/a#frag",
                "/a%00b", "/a%0Ab", "http://evil.example/x");
        StringBuilder body = new StringBuilder();
        for (String path : paths) {
            body.append(Json.mapper().createObjectNode().put("path", path)).append('\n');
        }

        JsonNode answer = ingest(batch(Map.of()), body.toString(), 400);

        assertThat(answer.get("rejected").asInt()).isEqualTo(paths.size());
        assertThat(answer.get("errors")).hasSize(paths.size())
                .allSatisfy(error -> assertThat(error.get("field").asText()).isEqualTo("path"));
        assertThat(producer.history()).isEmpty();
    }

    @Test
    void badHeaderValuesRejected() throws Exception {
        String body = """
                {"path": "/a", "headers": {"x-evil": "a\\r\\nset-cookie: b"}}
                {"path": "/b", "headers": {"x-empty": null}}
                {"path": "/c", "headers": {"bad name": "v"}}
                """;

        JsonNode answer = ingest(batch(Map.of()), body, 400);

        assertThat(answer.get("errors")).extracting(error -> error.get("field").asText())
                .containsExactly("headers.x-evil", "headers.x-empty", "headers");
        assertThat(answer.get("errors").get(0).get("value").asText()).isEqualTo("a\\r\\nset-cookie: b");
    }

    @Test
    void batchOverTheLineLimitIsRejectedWhole() throws Exception {
        String body = "{\"path\": \"/a\"}\n".repeat(4);

        ClientResponse answer = new BatchIngest(batch(Map.of("batch.max.requests", "3")), producer, null, registry)
                .ingest("batch-1", bytes(body), DEFAULTS, Runnable::run).get(5, TimeUnit.SECONDS);

        assertThat(answer.status()).isEqualTo(413);
        assertThat(answer.body()).contains("batch.max.requests").contains("4 request lines");
        assertThat(producer.history()).isEmpty();
    }

    @Test
    void emptyBatchIs400() throws Exception {
        ClientResponse answer = new BatchIngest(batch(Map.of()), producer, null, registry)
                .ingest("batch-1", bytes("\n  \r\n"), DEFAULTS, Runnable::run).get(5, TimeUnit.SECONDS);

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.body()).contains("no request lines");
    }

    @Test
    void crlfLineEndsAndHostPortAreAccepted() throws Exception {
        ingest(batch(Map.of()), "{\"path\": \"/a\", \"host\": \"Shop.Example.com:8080\"}\r\n{\"path\": \"/b\"}\r\n", 202);

        assertThat(producer.history()).extracting(record -> record.value().host())
                .containsExactly("Shop.Example.com", "shop.example.com");
    }

    @Test
    void rateLimitAppliesToEachLinesClient() throws Exception {
        var clock = new AtomicLong();
        var limiter = new ClientRateLimiter(new IngestConfig.RateLimit(1, 2, 100), clock::get);
        String body = "{\"path\": \"/a\", \"clientId\": \"alice\"}\n".repeat(3) + "{\"path\": \"/a\", \"clientId\": \"bob\"}\n";

        ClientResponse answer = new BatchIngest(batch(Map.of()), producer, limiter, registry)
                .ingest("batch-1", bytes(body), DEFAULTS, Runnable::run).get(5, TimeUnit.SECONDS);

        assertThat(answer.status()).isEqualTo(207);
        assertThat(answer.headers()).containsEntry("retry-after", "1");
        JsonNode json = Json.mapper().readTree(answer.body());
        assertThat(json.get("accepted").asInt()).isEqualTo(3);
        assertThat(json.get("errors")).extracting(BatchIngestTest::lineAndStatus).containsExactly("3:429");
        assertThat(json.get("errors").get(0).get("client").asText()).isEqualTo("alice");
    }

    @Test
    void failedSendsAre503OffProducerThread() throws Exception {
        var manual = producer(false);
        var queued = new java.util.ArrayList<Runnable>();
        var pending = new BatchIngest(batch(Map.of()), manual, null, registry)
                .ingest("batch-1", bytes("{\"path\": \"/a\"}\n{\"path\": \"/b\"}\n{\"path\": \"/c\"}\n"), DEFAULTS,
                        queued::add);

        assertThat(pending).isNotDone();
        manual.completeNext();
        manual.errorNext(new TimeoutException("broker gone"));
        assertThat(pending).isNotDone();
        manual.errorNext(new RecordTooLargeException("too big"));
        // The last callback hands the answer to the executor instead of building it on Kafka's thread.
        assertThat(pending).isNotDone();
        assertThat(queued).hasSize(1);
        queued.get(0).run();
        ClientResponse answer = pending.get(5, TimeUnit.SECONDS);

        assertThat(answer.status()).isEqualTo(207);
        assertThat(answer.headers()).containsEntry("retry-after", "1");
        JsonNode json = Json.mapper().readTree(answer.body());
        assertThat(json.get("accepted").asInt()).isEqualTo(1);
        assertThat(json.get("errors")).extracting(BatchIngestTest::lineAndStatus).containsExactly("2:503", "3:413");
        assertThat(json.get("errors").get(0).get("message").asText()).contains("broker gone").contains("retry the line");
        assertThat(json.get("errors").get(1).get("message").asText()).isEqualTo("too big");
        assertThat(json.get("errors").get(1).get("accepted").asText()).contains("max.event.bytes");
    }

    @Test
    void closedProducerFailsTheRestWithoutSending() throws Exception {
        producer.close();

        JsonNode answer = ingest(batch(Map.of()), "{\"path\": \"/a\"}\n{\"path\": \"/b\"}\n", 503);

        assertThat(answer.get("errors")).extracting(BatchIngestTest::lineAndStatus).containsExactly("1:503", "2:503");
        assertThat(producer.history()).isEmpty();
    }

    @Test
    void metadataTimeoutStopsFurtherSends() throws Exception {
        var attempts = new java.util.concurrent.atomic.AtomicInteger();
        // As KafkaProducer does when metadata does not arrive within max.block.ms: the callback runs at once, nothing is thrown.
        var timingOut = new MockProducer<>(true, null, new StringSerializer(), Topics.CLIENT_REQUESTS.valueSerde().serializer()) {
            @Override
            public synchronized java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata> send(
                    ProducerRecord<String, ClientRequest> record, org.apache.kafka.clients.producer.Callback callback) {
                attempts.incrementAndGet();
                var error = new TimeoutException("Topic not present in metadata after 5000 ms.");
                callback.onCompletion(null, error);
                return java.util.concurrent.CompletableFuture.failedFuture(error);
            }
        };

        ClientResponse answer = new BatchIngest(batch(Map.of()), timingOut, null, registry)
                .ingest("batch-1", bytes("{\"path\": \"/a\"}\n".repeat(5)), DEFAULTS, Runnable::run).get(5, TimeUnit.SECONDS);

        assertThat(answer.status()).isEqualTo(503);
        assertThat(answer.headers()).containsEntry("retry-after", "1");
        assertThat(attempts).hasValue(1);
    }

    @Test
    void c1CharacterInPathIsAccepted() throws Exception {
        // Jetty 12.1's HttpURI threw an index error for "/a\u0080" given as characters. Lines now give it the path
        // percent-encoded, as the bytes of a request line would arrive, and a single request with %C2%80 passes too.
        ingest(batch(Map.of()), "{\"path\": \"/a\\u0080\"}\n{\"path\": \"/ok\"}\n", 202);

        assertThat(producer.history()).extracting(record -> record.value().path()).containsExactly("/a\u0080", "/ok");
    }

    @Test
    void linesFollowSingleRequestRules() throws Exception {
        List<String[]> cases = List.of(
                new String[] {"{\"path\": \"/p?q=a b\"}", "path"},
                new String[] {"{\"path\": \"/p?q=a\\r\\nx-evil: 1\"}", "path"},
                new String[] {"{\"path\": \"/a//b\"}", "path"},
                new String[] {"{\"path\": \"/a%25b\"}", "path"},
                new String[] {"{\"path\": \"/a\", \"host\": \"shop..example\"}", "host"},
                new String[] {"{\"path\": \"/a\", \"host\": \"-shop.example\"}", "host"},
                new String[] {"{\"path\": \"/a\", \"host\": \"" + "x".repeat(64) + ".example\"}", "host"},
                new String[] {"{\"path\": \"/a\", \"headers\": {\"Host\": \"evil.example\"}}", "headers"},
                new String[] {"{\"path\": \"/a\", \"headers\": {\"x-client-id\": \"mallory\"}}", "headers"},
                new String[] {"{\"path\": \"/a\", \"headers\": {\"transfer-encoding\": \"chunked\"}}", "headers"},
                new String[] {"{\"path\": \"/a\", \"method\": \"GET /b HTTP/1.1\"}", "method"},
                new String[] {"{\"path\": \"/a\", \"path\": \"/b\"}", "path"},
                new String[] {"{\"path\": \"/a\", \"headers\": {\"x-a\": \"1\", \"x-a\": \"2\"}}", "headers.x-a"},
                new String[] {"{\"path\": \"/a\", \"clientId\": \"\\u0000bob\"}", "clientId"});
        StringBuilder body = new StringBuilder();
        cases.forEach(line -> body.append(line[0]).append('\n'));

        JsonNode answer = ingest(batch(Map.of()), body.toString(), 400);

        JsonNode errors = answer.get("errors");
        assertThat(errors).hasSize(cases.size());
        for (int i = 0; i < cases.size(); i++) {
            assertThat(errors.get(i).get("field").asText()).as(cases.get(i)[0]).isEqualTo(cases.get(i)[1]);
        }
        assertThat(producer.history()).isEmpty();
    }

    @Test
    void validQueryAndMethodTokensAreAccepted() throws Exception {
        // Jetty takes a query with '[', '|' or a lone '%' in a request line, so a line takes it too.
        ingest(batch(Map.of()), "{\"path\": \"/p?q=a%20b&filter[color]=red|blue&x=/y?z%\", \"method\": \"M-SEARCH\"}\n", 202);

        ClientRequest sent = producer.history().get(0).value();
        assertThat(sent.query()).isEqualTo("q=a%20b&filter[color]=red|blue&x=/y?z%");
        assertThat(sent.method()).isEqualTo("M-SEARCH");
        assertThat(sent.header("host")).isEqualTo("shop.example.com");
    }

    @Test
    void eventOverMaxEventBytesIs413() throws Exception {
        var limited = new MockProducer<>(true, null, new StringSerializer(),
                new EventSizeLimit(Topics.CLIENT_REQUESTS.valueSerde().serializer(), 2_000));
        String body = "{\"path\": \"/a\", \"body\": \"" + "x".repeat(3_000) + "\"}\n{\"path\": \"/b\"}\n";

        ClientResponse answer = new BatchIngest(batch(Map.of()), limited, null, registry)
                .ingest("batch-1", bytes(body), DEFAULTS, Runnable::run).get(5, TimeUnit.SECONDS);

        assertThat(answer.status()).isEqualTo(207);
        JsonNode json = Json.mapper().readTree(answer.body());
        assertThat(json.get("errors")).extracting(BatchIngestTest::lineAndStatus).containsExactly("1:413");
        assertThat(json.get("errors").get(0).get("message").asText()).contains("max.event.bytes=2000");
        assertThat(limited.history()).extracting(record -> record.value().path()).containsExactly("/b");
    }

    @Test
    void longTargetIs414AndLargeHeadersAre431() throws Exception {
        String longPath = "/" + "a".repeat(BatchLineValidation.MAX_TARGET_CHARS);
        String bigHeader = "b".repeat(BatchLineValidation.MAX_HEADER_CHARS);
        String body = "{\"path\": \"" + longPath + "\"}\n{\"path\": \"/a\", \"headers\": {\"x-big\": \"" + bigHeader + "\"}}\n";

        JsonNode answer = ingest(batch(Map.of()), body, 207);

        assertThat(answer.get("errors")).extracting(BatchIngestTest::lineAndStatus).containsExactly("1:414", "2:431");
        assertThat(answer.get("errors").get(0).get("error").asText()).isEqualTo("uri_too_long");
        assertThat(answer.get("errors").get(0).get("value").asText()).hasSizeLessThan(80);
    }

    @Test
    void unpairedSurrogatesAreRejected() throws Exception {
        // JSON escapes can spell surrogates that UTF-8 text cannot carry; a pair is one character and is accepted.
        String body = """
                {"path": "/a", "body": "x\\ud800y"}
                {"path": "/b", "headers": {"x-note": "\\udc00"}}
                {"path": "/c?q=\\ud800"}
                {"path": "/d\\udfff"}
                {"path": "/e", "body": "smile \\ud83d\\ude00", "headers": {"x-note": "\\ud83d\\ude00"}}
                """;

        JsonNode answer = ingest(batch(Map.of()), body, 207);

        assertThat(answer.get("errors")).extracting(BatchIngestTest::lineAndStatus).containsExactly("1:400", "2:400", "3:400",
                "4:400");
        assertThat(answer.get("errors")).extracting(error -> error.get("field").asText())
                .containsExactly("body", "headers.x-note", "path", "path");
        assertThat(answer.get("errors").get(0).get("value").asText()).isEqualTo("x\\ud800y");
        assertThat(answer.get("errors").get(0).get("message").asText()).contains("\\ud800 at character 2");
        assertThat(answer.get("errors").get(0).get("accepted").asText()).contains("unpaired surrogates");
        assertThat(producer.history()).hasSize(1);
        ClientRequest sent = producer.history().get(0).value();
        assertThat(sent.body()).isEqualTo("smile \uD83D\uDE00");
        assertThat(sent.header("x-note")).isEqualTo("\uD83D\uDE00");
    }

    @Test
    void nonAsciiPathIsPercentEncoded() throws Exception {
        // A single request's raw UTF-8 path bytes reach the app server decoded; a line's characters do the same.
        String body = """
                {"path": "/products/\\ud83d\\ude00?q=\\u00e9t\\u00e9"}
                {"path": "/caf\\u00e9/%C3%A9"}
                """;

        ingest(batch(Map.of()), body, 202);

        assertThat(producer.history()).extracting(record -> record.value().path())
                .containsExactly("/products/\uD83D\uDE00", "/caf\u00e9/\u00e9");
        assertThat(producer.history().get(0).value().query()).isEqualTo("q=\u00e9t\u00e9");
    }

    @Test
    void printableEscapesControlCharacters() {
        assertThat(BatchLineValidation.printable("plain text é")).isEqualTo("plain text é");
        assertThat(BatchLineValidation.printable("a\r\n\tb\u0000\u007f")).isEqualTo("a\\r\\n\\tb\\u0000\\u007f");
        assertThat(BatchLineValidation.printable("a\uD800b\uD83D\uDE00\uDC00")).isEqualTo("a\\ud800b\uD83D\uDE00\\udc00");
    }

    @Test
    void lineBoundsSkipBlankLines() {
        List<int[]> lines = BatchIngest.lineBounds(bytes("a\n\n  \nbc\r\nd"));

        assertThat(lines).extracting(bounds -> bounds[2]).containsExactly(1, 4, 5);
        assertThat(lines).extracting(bounds -> bounds[1] - bounds[0]).containsExactly(1, 2, 1);
    }

    private JsonNode ingest(IngestConfig config, String body, int expectedStatus) throws Exception {
        ClientResponse answer = new BatchIngest(config, producer, null, registry).ingest("batch-1", bytes(body), DEFAULTS, Runnable::run)
                .get(5, TimeUnit.SECONDS);
        assertThat(answer.status()).as(answer.body()).isEqualTo(expectedStatus);
        assertThat(answer.headers()).containsEntry("content-type", "application/json");
        return Json.mapper().readTree(answer.body());
    }

    private static String lineAndStatus(JsonNode result) {
        return result.get("line").asInt() + ":" + result.get("status").asInt();
    }

    private static IngestConfig batch(Map<String, String> extra) {
        var settings = new HashMap<>(extra);
        settings.put("bootstrap.servers", "127.0.0.1:9092");
        return IngestConfig.from(Settings.of(settings));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static MockProducer<String, ClientRequest> producer(boolean autoComplete) {
        var node = new Node(0, "127.0.0.1", 9092);
        var partitions = new java.util.ArrayList<PartitionInfo>();
        for (int i = 0; i < Topics.CLIENT_REQUESTS.partitions(); i++) {
            partitions.add(new PartitionInfo(Topics.CLIENT_REQUESTS.name(), i, node, new Node[]{node}, new Node[]{node}));
        }
        var cluster = new Cluster("test", List.of(node), partitions, java.util.Set.of(), java.util.Set.of());
        return new MockProducer<>(cluster, autoComplete, null, new StringSerializer(),
                Topics.CLIENT_REQUESTS.valueSerde().serializer());
    }
}
