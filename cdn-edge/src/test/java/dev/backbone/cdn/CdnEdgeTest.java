package dev.backbone.cdn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.cdn.TestOrigin.Reply;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The edge's caching rules, each against a real origin on 127.0.0.1 that counts its fetches. No Kafka. */
class CdnEdgeTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final String HOST = "shop.example";
    private static final String ADMIN_TOKEN = "test-admin-token";
    private static final String EDGE_TOKEN = "test-edge-token";

    private final TestClock clock = new TestClock();
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ExecutorService requests = Executors.newFixedThreadPool(12);
    private final List<CountDownLatch> latches = new ArrayList<>();
    private PrometheusMeterRegistry registry;
    private TestOrigin origin;
    private CdnEdge edge;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        edge = CdnEdge.start(EdgeConfig.of(Map.of(
                "region", "test-1",
                "http.port", "0",
                "origin.url", origin.uri().toString(),
                "edge.token", EDGE_TOKEN,
                "admin.token", ADMIN_TOKEN,
                "origin.timeout.ms", "10000")), registry, clock);
    }

    @AfterEach
    void stop() {
        latches.forEach(CountDownLatch::countDown);
        requests.shutdownNow();
        if (edge != null) {
            edge.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    @Test
    void missThenHit() throws Exception {
        origin.route("/a", request -> Reply.ok("body a", Map.of("Cache-Control", "max-age=60", "Surrogate-Key", "page:a")));

        HttpResponse<String> miss = get("/a");
        clock.advance(Duration.ofSeconds(7));
        HttpResponse<String> hit = get("/a");

        assertThat(miss.statusCode()).isEqualTo(200);
        assertThat(miss.headers().firstValue("X-Cache")).hasValue("MISS");
        assertThat(hit.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(hit.body()).isEqualTo("body a");
        assertThat(hit.headers().firstValue("Age")).hasValue("7");
        assertThat(hit.headers().firstValue("Surrogate-Key")).isEmpty();
        assertThat(origin.fetches("/a")).isEqualTo(1);
        TestOrigin.Received fetch = origin.received("/a").get(0);
        assertThat(fetch.header("Host")).isEqualTo(HOST);
        assertThat(fetch.header(EdgeHeaders.EDGE_TOKEN)).isEqualTo(EDGE_TOKEN);
        assertThat(fetch.header(EdgeHeaders.EDGE_REGION)).isEqualTo("test-1");
        assertThat(requestCount("hit")).isEqualTo(1);
        assertThat(requestCount("miss")).isEqualTo(1);
    }

    @Test
    void clientEdgeTokenIsNotForwarded() throws Exception {
        origin.route("/a", request -> Reply.ok("body a", Map.of("Cache-Control", "max-age=60")));

        send(HttpRequest.newBuilder(edgeUri("/a")).header("Host", HOST).header(EdgeHeaders.EDGE_TOKEN, "forged").build());

        assertThat(origin.received("/a").get(0).headers().get(EdgeHeaders.EDGE_TOKEN)).containsExactly(EDGE_TOKEN);
    }

    @Test
    void maxAgeExpires() throws Exception {
        origin.route("/a", request -> Reply.ok("v" + request.call(), Map.of("Cache-Control", "max-age=10")));

        get("/a");
        clock.advance(Duration.ofSeconds(9));
        HttpResponse<String> fresh = get("/a");
        clock.advance(Duration.ofSeconds(2));
        HttpResponse<String> expired = get("/a");

        assertThat(fresh.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(expired.headers().firstValue("X-Cache")).hasValue("MISS");
        assertThat(expired.body()).isEqualTo("v2");
    }

    @Test
    void sharedMaxAgeTakesPrecedence() throws Exception {
        origin.route("/shared", request -> Reply.ok("s", Map.of("Cache-Control", "max-age=0, s-maxage=60")));
        origin.route("/browser", request -> Reply.ok("b", Map.of("Cache-Control", "max-age=60, s-maxage=0")));

        get("/shared");
        HttpResponse<String> shared = get("/shared");
        get("/browser");
        HttpResponse<String> browser = get("/browser");

        assertThat(shared.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(browser.headers().firstValue("X-Cache")).hasValue("MISS");
        assertThat(origin.fetches("/shared")).isEqualTo(1);
        assertThat(origin.fetches("/browser")).isEqualTo(2);
    }

    @Test
    void noStoreAndPrivateAreNeverStored() throws Exception {
        origin.route("/no-store", request -> Reply.ok("n", Map.of("Cache-Control", "no-store, max-age=60")));
        origin.route("/private", request -> Reply.ok("p", Map.of("Cache-Control", "private, max-age=60")));
        origin.route("/cookie", request -> Reply.ok("c", Map.of("Cache-Control", "max-age=60", "Set-Cookie", "id=1")));
        origin.route("/no-lifetime", request -> Reply.ok("l", Map.of()));

        for (String path : List.of("/no-store", "/private", "/cookie", "/no-lifetime")) {
            get(path);
            HttpResponse<String> second = get(path);
            assertThat(second.headers().firstValue("X-Cache")).as(path).hasValue("MISS");
            assertThat(origin.fetches(path)).as(path).isEqualTo(2);
        }
    }

    @Test
    void staleWhileRevalidateRefreshesOnce() throws Exception {
        CountDownLatch refresh = latch();
        origin.route("/swr", request -> {
            if (request.call() == 2) {
                refresh.await(20, TimeUnit.SECONDS);
            }
            return Reply.ok("v" + request.call(), Map.of("Cache-Control", "max-age=1, stale-while-revalidate=30"));
        });
        get("/swr");
        clock.advance(Duration.ofSeconds(5));

        List<HttpResponse<String>> stale = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            stale.add(get("/swr"));
        }
        await().atMost(TIMEOUT).until(() -> origin.fetches("/swr") == 2);
        refresh.countDown();
        HttpResponse<String> refreshed = await().atMost(TIMEOUT).until(() -> get("/swr"),
                response -> response.body().equals("v2"));

        assertThat(stale).extracting(HttpResponse::body).containsOnly("v1");
        assertThat(stale).extracting(response -> response.headers().firstValue("X-Cache").orElseThrow()).containsOnly("STALE");
        assertThat(refreshed.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(origin.fetches("/swr")).isEqualTo(2);
        assertThat(requestCount("stale")).isGreaterThanOrEqualTo(5);
    }

    @Test
    void staleIfErrorOnServerError() throws Exception {
        origin.route("/sie", request -> request.call() == 1
                ? Reply.ok("good", Map.of("Cache-Control", "max-age=1, stale-if-error=60"))
                : new Reply(500, Map.of(), "broken".getBytes()));
        get("/sie");

        clock.advance(Duration.ofSeconds(30));
        HttpResponse<String> stale = get("/sie");
        clock.advance(Duration.ofSeconds(60));
        HttpResponse<String> tooStale = get("/sie");

        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(stale.body()).isEqualTo("good");
        assertThat(stale.headers().firstValue("X-Cache")).hasValue("STALE");
        assertThat(tooStale.statusCode()).isEqualTo(500);
        assertThat(tooStale.body()).isEqualTo("broken");
    }

    @Test
    void staleIfErrorWhenOriginUnreachable() throws Exception {
        origin.route("/sie", request -> Reply.ok("good", Map.of("Cache-Control", "max-age=1, stale-if-error=60")));
        get("/sie");
        origin.close();

        clock.advance(Duration.ofSeconds(30));
        HttpResponse<String> stale = get("/sie");
        HttpResponse<String> uncached = get("/never-cached");

        assertThat(stale.statusCode()).isEqualTo(200);
        assertThat(stale.headers().firstValue("X-Cache")).hasValue("STALE");
        assertThat(uncached.statusCode()).isEqualTo(502);
        assertThat(registry.get(EdgeMetrics.ORIGIN_FETCHES).tag("outcome", "unreachable").counter().count()).isEqualTo(2);
    }

    @Test
    void concurrentMissesShareOneFetch() throws Exception {
        CountDownLatch release = latch();
        origin.route("/hot", request -> {
            release.await(20, TimeUnit.SECONDS);
            return Reply.ok("hot body", Map.of("Cache-Control", "max-age=60"));
        });

        List<Future<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            responses.add(requests.submit(() -> get("/hot")));
        }
        await().atMost(TIMEOUT).until(() -> origin.fetches("/hot") == 1 && edge.coalescedWaiting() == 9);
        release.countDown();

        for (Future<HttpResponse<String>> response : responses) {
            assertThat(response.get(20, TimeUnit.SECONDS).body()).isEqualTo("hot body");
        }
        assertThat(origin.fetches("/hot")).isEqualTo(1);
    }

    @Test
    void ifNoneMatchAnswered304() throws Exception {
        origin.route("/etag", request -> Reply.ok("tagged", Map.of("Cache-Control", "max-age=60", "ETag", "\"v1\"")));

        HttpResponse<String> missWithCondition = get("/etag", "If-None-Match", "\"v1\"");
        HttpResponse<String> hitWithCondition = get("/etag", "If-None-Match", "W/\"v0\", \"v1\"");
        HttpResponse<String> otherTag = get("/etag", "If-None-Match", "\"v0\"");

        assertThat(missWithCondition.statusCode()).isEqualTo(304);
        assertThat(missWithCondition.body()).isEmpty();
        assertThat(hitWithCondition.statusCode()).isEqualTo(304);
        assertThat(hitWithCondition.headers().firstValue("ETag")).hasValue("\"v1\"");
        assertThat(hitWithCondition.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(otherTag.statusCode()).isEqualTo(200);
        assertThat(otherTag.body()).isEqualTo("tagged");
        assertThat(origin.fetches("/etag")).isEqualTo(1);
        assertThat(origin.received("/etag").get(0).header("If-None-Match")).isNull();
    }

    @Test
    void ifModifiedSinceAnswered304() throws Exception {
        origin.route("/dated", request -> Reply.ok("dated", Map.of("Cache-Control", "max-age=60",
                "Last-Modified", "Tue, 14 Nov 2023 10:00:00 GMT")));

        HttpResponse<String> same = get("/dated", "If-Modified-Since", "Tue, 14 Nov 2023 10:00:00 GMT");
        HttpResponse<String> later = get("/dated", "If-Modified-Since", "Wed, 15 Nov 2023 10:00:00 GMT");
        HttpResponse<String> earlier = get("/dated", "If-Modified-Since", "Mon, 13 Nov 2023 10:00:00 GMT");

        assertThat(same.statusCode()).isEqualTo(304);
        assertThat(later.statusCode()).isEqualTo(304);
        assertThat(earlier.statusCode()).isEqualTo(200);
        assertThat(earlier.body()).isEqualTo("dated");
    }

    @Test
    void staleEntryRevalidatedWith304() throws Exception {
        origin.route("/reval", request -> "\"v1\"".equals(request.header("If-None-Match"))
                ? new Reply(304, Map.of("Cache-Control", "max-age=60", "ETag", "\"v1\""), new byte[0])
                : Reply.ok("original", Map.of("Cache-Control", "max-age=1", "ETag", "\"v1\"")));
        get("/reval");
        clock.advance(Duration.ofSeconds(5));

        HttpResponse<String> revalidated = get("/reval");
        HttpResponse<String> hit = get("/reval");

        assertThat(revalidated.headers().firstValue("X-Cache")).hasValue("REVALIDATED");
        assertThat(revalidated.body()).isEqualTo("original");
        assertThat(hit.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(origin.fetches("/reval")).isEqualTo(2);
        assertThat(origin.received("/reval").get(1).header("If-None-Match")).isEqualTo("\"v1\"");
    }

    @Test
    void partialContentIsNeverStored() throws Exception {
        origin.route("/part", request -> new Reply(206, Map.of("Cache-Control", "max-age=60",
                "Content-Range", "bytes 0-3/10"), "0123".getBytes()));

        HttpResponse<String> first = get("/part");
        HttpResponse<String> second = get("/part");

        assertThat(first.statusCode()).isEqualTo(206);
        assertThat(second.headers().firstValue("X-Cache")).hasValue("MISS");
        assertThat(origin.fetches("/part")).isEqualTo(2);
    }

    @Test
    void rangeServedFromFullObject() throws Exception {
        origin.route("/file", request -> Reply.ok("0123456789", Map.of("Cache-Control", "max-age=60")));

        HttpResponse<String> range = get("/file", "Range", "bytes=2-5");
        HttpResponse<String> full = get("/file");
        HttpResponse<String> suffix = get("/file", "Range", "bytes=-3");
        HttpResponse<String> unsatisfiable = get("/file", "Range", "bytes=20-");

        assertThat(range.statusCode()).isEqualTo(206);
        assertThat(range.body()).isEqualTo("2345");
        assertThat(range.headers().firstValue("Content-Range")).hasValue("bytes 2-5/10");
        assertThat(full.statusCode()).isEqualTo(200);
        assertThat(full.body()).isEqualTo("0123456789");
        assertThat(full.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(suffix.body()).isEqualTo("789");
        assertThat(unsatisfiable.statusCode()).isEqualTo(416);
        assertThat(origin.fetches("/file")).isEqualTo(1);
        assertThat(origin.received("/file").get(0).header("Range")).isNull();
    }

    @Test
    void varyKeepsVariantsAndPurgeRemovesAll() throws Exception {
        origin.route("/greeting", request -> Reply.ok("hello " + request.header("Accept-Language"), Map.of(
                "Cache-Control", "max-age=60", "Vary", "Accept-Language", "Surrogate-Key", "page:greeting")));

        get("/greeting", "Accept-Language", "en");
        get("/greeting", "Accept-Language", "de");
        HttpResponse<String> english = get("/greeting", "Accept-Language", "en");
        HttpResponse<String> german = get("/greeting", "Accept-Language", "de");
        HttpResponse<String> purge = admin("{\"surrogateKey\": \"page:greeting\"}", ADMIN_TOKEN);
        HttpResponse<String> englishAfter = get("/greeting", "Accept-Language", "en");
        HttpResponse<String> germanAfter = get("/greeting", "Accept-Language", "de");

        assertThat(english.body()).isEqualTo("hello en");
        assertThat(english.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(german.body()).isEqualTo("hello de");
        assertThat(german.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(purge.statusCode()).isEqualTo(200);
        assertThat(purge.body()).contains("\"purged\":1");
        assertThat(englishAfter.headers().firstValue("X-Cache")).hasValue("MISS");
        assertThat(germanAfter.headers().firstValue("X-Cache")).hasValue("MISS");
        assertThat(origin.fetches("/greeting")).isEqualTo(4);
    }

    @Test
    void queryNormalizedForKeyAndOrigin() throws Exception {
        origin.route("/search", request -> Reply.ok("results for " + request.query(), Map.of("Cache-Control", "max-age=60")));

        HttpResponse<String> first = get("/search?b=2&a=1");
        HttpResponse<String> reordered = get("/search?a=1&b=2");
        HttpResponse<String> emptySegments = get("/search?&a=1&&b=2&");
        HttpResponse<String> otherValue = get("/search?a=1&b=3");
        get("/search?flag&a=1");
        HttpResponse<String> emptyValue = get("/search?a=1&flag=");

        assertThat(first.body()).isEqualTo("results for a=1&b=2");
        assertThat(reordered.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(emptySegments.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(otherValue.headers().firstValue("X-Cache")).hasValue("MISS");
        assertThat(emptyValue.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(origin.fetches("/search")).isEqualTo(3);
    }

    @Test
    void purgeRacingFetchDoesNotKeepOldBody() throws Exception {
        CountDownLatch release = latch();
        origin.route("/race", request -> {
            if (request.call() == 1) {
                release.await(20, TimeUnit.SECONDS);
                return Reply.ok("old", Map.of("Cache-Control", "max-age=60", "Surrogate-Key", "product:42"));
            }
            return Reply.ok("new", Map.of("Cache-Control", "max-age=60", "Surrogate-Key", "product:42"));
        });

        Future<HttpResponse<String>> slow = requests.submit(() -> get("/race"));
        await().atMost(TIMEOUT).until(() -> origin.fetches("/race") == 1);
        assertThat(admin("{\"surrogateKey\": \"product:42\"}", ADMIN_TOKEN).statusCode()).isEqualTo(200);
        // A request after the purge does not wait for the fetch that started before it.
        HttpResponse<String> afterPurge = get("/race");
        release.countDown();
        HttpResponse<String> slowResponse = slow.get(20, TimeUnit.SECONDS);
        HttpResponse<String> later = get("/race");

        assertThat(afterPurge.body()).isEqualTo("new");
        assertThat(slowResponse.body()).isEqualTo("old");
        assertThat(later.body()).isEqualTo("new");
        assertThat(later.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(origin.fetches("/race")).isEqualTo(2);
        assertThat(registry.get(EdgeMetrics.FETCHES_DISCARDED).counter().count()).isEqualTo(1);
    }

    @Test
    void softPurgeServesStaleWhileRefreshing() throws Exception {
        origin.route("/soft", request -> Reply.ok("v" + request.call(), Map.of("Cache-Control",
                "max-age=60, stale-while-revalidate=30", "Surrogate-Key", "product:7")));
        get("/soft");

        HttpResponse<String> purge = admin("{\"surrogateKey\": \"product:7\", \"soft\": true}", ADMIN_TOKEN);
        HttpResponse<String> stale = get("/soft");
        HttpResponse<String> refreshed = await().atMost(TIMEOUT).until(() -> get("/soft"), response -> response.body().equals("v2"));

        assertThat(purge.body()).contains("\"kind\":\"soft\"");
        assertThat(stale.body()).isEqualTo("v1");
        assertThat(stale.headers().firstValue("X-Cache")).hasValue("STALE");
        assertThat(refreshed.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(registry.get(EdgeMetrics.PURGES).tags("kind", "soft", "source", "admin").counter().count()).isEqualTo(1);
    }

    @Test
    void purgeAllEmptiesCache() throws Exception {
        origin.route("/one", request -> Reply.ok("1", Map.of("Cache-Control", "max-age=60")));
        origin.route("/two", request -> Reply.ok("2", Map.of("Cache-Control", "max-age=60")));
        get("/one");
        get("/two");

        HttpResponse<String> purge = admin("{\"all\": true}", ADMIN_TOKEN);

        assertThat(purge.body()).contains("\"purged\":2").contains("\"kind\":\"all\"");
        assertThat(get("/one").headers().firstValue("X-Cache")).hasValue("MISS");
        assertThat(get("/two").headers().firstValue("X-Cache")).hasValue("MISS");
    }

    @Test
    void adminPurgeRequiresToken() throws Exception {
        HttpResponse<String> missing = send(HttpRequest.newBuilder(edgeUri("/admin/purge"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"all\": true}")).build());
        HttpResponse<String> wrong = admin("{\"all\": true}", "not-the-token");
        HttpResponse<String> invalidBody = admin("{\"surrogateKey\": \"has space\"}", ADMIN_TOKEN);
        HttpResponse<String> notJson = admin("purge everything", ADMIN_TOKEN);
        HttpResponse<String> getMethod = send(HttpRequest.newBuilder(edgeUri("/admin/purge"))
                .header("Authorization", "Bearer " + ADMIN_TOKEN).GET().build());

        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(missing.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(value -> assertThat(value).startsWith("Bearer"));
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(invalidBody.statusCode()).isEqualTo(400);
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(getMethod.statusCode()).isEqualTo(405);
        assertThat(registry.get(EdgeMetrics.PURGES).tags("kind", "all", "source", "admin").counter().count()).isZero();
    }

    @Test
    void adminEndpointOffWithoutToken() throws Exception {
        try (var noAdmin = CdnEdge.start(EdgeConfig.of(Map.of("region", "test-2", "http.port", "0",
                "origin.url", origin.uri().toString())), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), clock)) {
            HttpResponse<String> response = send(HttpRequest.newBuilder(noAdmin.uri().resolve("/admin/purge"))
                    .header("Authorization", "Bearer anything")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"all\": true}")).build());

            assertThat(response.statusCode()).isEqualTo(403);
        }
    }

    @Test
    void originHostReplacesClientHost() throws Exception {
        origin.route("/a", request -> Reply.ok("a", Map.of("Cache-Control", "max-age=60")));
        try (var fixedHost = CdnEdge.start(EdgeConfig.of(Map.of("region", "test-3", "http.port", "0",
                "origin.url", origin.uri().toString(), "origin.host", "origin.internal")),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), clock)) {
            send(HttpRequest.newBuilder(fixedHost.uri().resolve("/a")).header("Host", HOST).build());
        }

        assertThat(origin.received("/a").get(0).header("Host")).isEqualTo("origin.internal");
        assertThat(origin.received("/a").get(0).header(EdgeHeaders.EDGE_TOKEN)).isNull();
    }

    @Test
    void unsafeMethodPassesThroughAndInvalidates() throws Exception {
        origin.route("/cart", request -> request.method().equals("POST")
                ? new Reply(201, Map.of(), ("created " + new String(request.body())).getBytes())
                : Reply.ok("cart v" + request.call(), Map.of("Cache-Control", "max-age=60")));
        get("/cart");

        HttpResponse<String> post = send(HttpRequest.newBuilder(edgeUri("/cart")).header("Host", HOST)
                .POST(HttpRequest.BodyPublishers.ofString("item=1")).build());
        HttpResponse<String> afterPost = get("/cart");

        assertThat(post.statusCode()).isEqualTo(201);
        assertThat(post.body()).isEqualTo("created item=1");
        assertThat(post.headers().firstValue("X-Cache")).hasValue("PASS");
        assertThat(afterPost.headers().firstValue("X-Cache")).hasValue("MISS");
        assertThat(afterPost.body()).isEqualTo("cart v3");
    }

    @Test
    void headServedFromGetEntry() throws Exception {
        origin.route("/page", request -> Reply.ok("page body", Map.of("Cache-Control", "max-age=60")));
        get("/page");

        HttpResponse<String> head = send(HttpRequest.newBuilder(edgeUri("/page")).header("Host", HOST)
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());

        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("X-Cache")).hasValue("HIT");
        assertThat(head.headers().firstValue("Content-Length")).hasValue("9");
        assertThat(head.body()).isEmpty();
        assertThat(origin.fetches("/page")).isEqualTo(1);
    }

    @Test
    void metricsInPrometheusText() throws Exception {
        origin.route("/a", request -> Reply.ok("a", Map.of("Cache-Control", "max-age=60")));
        get("/a");
        get("/a");

        HttpResponse<String> metrics = send(HttpRequest.newBuilder(edgeUri("/metrics")).build());

        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("backbone_edge_requests_total{region=\"test-1\",result=\"hit\"} 1.0");
        assertThat(metrics.body()).contains("backbone_edge_requests_total{region=\"test-1\",result=\"miss\"} 1.0");
        assertThat(metrics.body()).contains("backbone_edge_purge_lag_seconds");
    }

    private CountDownLatch latch() {
        var latch = new CountDownLatch(1);
        latches.add(latch);
        return latch;
    }

    private URI edgeUri(String pathAndQuery) {
        return edge.uri().resolve(pathAndQuery);
    }

    private HttpResponse<String> get(String pathAndQuery, String... headers) throws Exception {
        Map<String, String> extra = new HashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            extra.put(headers[i], headers[i + 1]);
        }
        HttpRequest.Builder builder = HttpRequest.newBuilder(edgeUri(pathAndQuery)).header("Host", HOST).GET();
        extra.forEach(builder::header);
        return send(builder.build());
    }

    @Test
    void oversizedAdminBodyIs413() throws Exception {
        HttpResponse<String> response = admin("x".repeat(AdminEndpoint.MAX_BODY_BYTES + 1), "any-token");

        assertThat(response.body()).contains("larger than the limit");
        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.headers().firstValue("connection")).hasValue("close");
    }

    private HttpResponse<String> admin(String body, String token) throws Exception {
        return send(HttpRequest.newBuilder(edgeUri("/admin/purge"))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private HttpResponse<String> send(HttpRequest request) throws Exception {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private double requestCount(String result) {
        return registry.get(EdgeMetrics.REQUESTS).tag("result", result).counter().count();
    }
}
