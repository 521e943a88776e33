package dev.backbone.appserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.Json;
import dev.backbone.storage.AccountRepository;
import dev.backbone.storage.ProductRepository;
import dev.backbone.storage.StaticAssetRepository;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Dispatch, authentication and input errors that need no database; {@code AppServerIT} covers the rest. */
class RequestHandlerTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2024-06-01T12:00:00Z"), ZoneOffset.UTC);
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final TokenSigner signer = new TokenSigner(SECRET, CLOCK);
    private EntityCaches caches;
    private RequestHandler handler;

    @BeforeEach
    void createHandler() {
        var database = new UnreachableDatabase();
        var timers = new QueryTimers(registry);
        var products = new ProductRepository(database);
        caches = EntityCaches.start("app-1", new CacheConfig(10, Duration.ofMinutes(1), Duration.ofSeconds(5), List.of(), 10, null),
                products, new AccountRepository(database), new StaticAssetRepository(database), timers, registry, CLOCK);
        var authenticator = new Authenticator(new TokenVerifier(SECRET, Duration.ofSeconds(30), CLOCK), registry);
        var responses = new Responses("app-1", CLOCK);
        var cdn = new CdnConfig("edge-token-of-16+", Map.of("us-east", "http://127.0.0.1:8090"), "", Duration.ofSeconds(60),
                Duration.ofSeconds(300), Duration.ofSeconds(30), Duration.ofSeconds(600));
        handler = new RequestHandler(new ProductEndpoints(products, caches.products, authenticator, timers, responses, cdn),
                new AccountEndpoints(caches.accounts, authenticator, responses),
                new StaticEndpoints(caches.assets, authenticator, cdn, responses, CLOCK), responses, CLOCK, registry);
    }

    @AfterEach
    void closeCaches() {
        caches.close();
    }

    @Test
    void unknownPathIsNotFound() throws Exception {
        for (String path : new String[] {"/", "/products/", "/products/1/reviews", "/categories/1", "/accounts", "/static"}) {
            ClientResponse response = handler.handle(request("GET", path, null, Map.of()));

            assertThat(response.status()).as(path).isEqualTo(404);
            assertThat(json(response).get("error").asText()).as(path).isEqualTo("not_found");
        }
    }

    @Test
    void wrongMethodIsNotAllowed() throws Exception {
        ClientResponse response = handler.handle(request("PATCH", "/products/1", null, Map.of()));

        assertThat(response.status()).isEqualTo(405);
        assertThat(response.headers()).containsEntry("allow", "GET, PUT, DELETE").containsEntry("content-type", "application/json");
        assertThat(json(response).get("message").asText())
                .isEqualTo("method PATCH is not allowed on /products/1; allowed: GET, PUT, DELETE");
        assertThat(handler.handle(request("GET", "/products", null, Map.of())).headers()).containsEntry("allow", "POST");
        assertThat(handler.handle(request("POST", "/accounts/1", null, Map.of())).headers()).containsEntry("allow", "GET");
        assertThat(handler.handle(request("DELETE", "/categories/1/products", null, Map.of())).headers()).containsEntry("allow", "GET");
        assertThat(handler.handle(request("PUT", "/static/css/site.css", null, Map.of())).headers()).containsEntry("allow", "GET");
    }

    @Test
    void invalidIdNamesFieldValueAndAccepted() throws Exception {
        for (String id : new String[] {"abc", "-5", "+5", "1.0", "99999999999999999999", "9223372036854775808"}) {
            for (String path : new String[] {"/products/" + id, "/categories/" + id + "/products", "/accounts/" + id}) {
                ClientResponse response = handler.handle(request("GET", path, null, bearer()));

                assertThat(response.status()).as(path).isEqualTo(400);
                JsonNode body = json(response);
                assertThat(body.get("field").asText()).as(path).isEqualTo("id");
                assertThat(body.get("value").asText()).as(path).isEqualTo(id);
                assertThat(body.get("accepted").asText()).as(path).isEqualTo("an integer from 0 to 9223372036854775807");
            }
        }
    }

    @Test
    void protectedEndpointsNeedToken() throws Exception {
        String[][] calls = {{"POST", "/products"}, {"PUT", "/products/1"}, {"DELETE", "/products/1"}, {"GET", "/accounts/1"}};
        for (String[] call : calls) {
            ClientResponse response = handler.handle(request(call[0], call[1], "{\"stock\":1}", Map.of()));

            assertThat(response.status()).as(call[0] + " " + call[1]).isEqualTo(401);
            assertThat(response.headers().get("www-authenticate")).as(call[1])
                    .isEqualTo("Bearer realm=\"backbone\", error=\"invalid_token\", error_description=\"no bearer token;"
                            + " send Authorization: Bearer TOKEN\"");
            assertThat(json(response).get("error").asText()).isEqualTo("invalid_token");
            assertThat(json(response).get("reason").asText()).isEqualTo("missing");
        }
        assertThat(failures("missing")).isEqualTo(4.0);
    }

    @Test
    void everyTokenFailureIsCountedByReason() throws Exception {
        String good = signer.mint("alice", Duration.ofHours(1));
        String expired = new TokenSigner(SECRET, Clock.fixed(Instant.parse("2024-05-01T00:00:00Z"), ZoneOffset.UTC))
                .mint("alice", Duration.ofHours(1));
        String tampered = good.substring(0, good.length() - 2) + (good.endsWith("AA") ? "BB" : "AA");
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("Bearer not-a-token", "malformed");
        cases.put("Basic dXNlcjpwYXNz", "malformed");
        cases.put("Bearer " + tampered, "bad_signature");
        cases.put("Bearer " + expired, "expired");

        for (Map.Entry<String, String> entry : cases.entrySet()) {
            ClientResponse response = handler.handle(request("GET", "/accounts/1", null, Map.of("authorization", entry.getKey())));

            assertThat(response.status()).as(entry.getValue()).isEqualTo(401);
            assertThat(json(response).get("reason").asText()).isEqualTo(entry.getValue());
            assertThat(response.headers().get("www-authenticate")).startsWith("Bearer realm=\"backbone\", error=\"invalid_token\"");
            assertThat(response.body()).doesNotContain(good.substring(0, 20));
        }
        assertThat(failures("malformed")).isEqualTo(2.0);
        assertThat(failures("bad_signature")).isEqualTo(1.0);
        assertThat(failures("expired")).isEqualTo(1.0);
        assertThat(failures("missing")).isZero();
    }

    @Test
    void invalidBodyIsRejectedBeforeDatabase() throws Exception {
        ClientResponse put = handler.handle(request("PUT", "/products/1", "{\"stock\":-3}", bearer()));
        ClientResponse post = handler.handle(request("POST", "/products", "{\"name\":\"x\"}", bearer()));

        assertThat(put.status()).isEqualTo(400);
        assertThat(json(put).get("field").asText()).isEqualTo("stock");
        assertThat(json(put).get("value").asText()).isEqualTo("-3");
        assertThat(post.status()).isEqualTo(400);
        assertThat(json(post).get("field").asText()).isEqualTo("categoryId");
    }

    @Test
    void invalidIfMatchIsRejectedBeforeDatabase() throws Exception {
        var headers = new LinkedHashMap<>(bearer());
        headers.put("if-match", "W/\"3\"");

        ClientResponse response = handler.handle(request("DELETE", "/products/1", null, headers));

        assertThat(response.status()).isEqualTo(400);
        assertThat(json(response).get("field").asText()).isEqualTo("If-Match");
        assertThat(json(response).get("value").asText()).isEqualTo("W/\"3\"");
    }

    @Test
    void invalidPageParametersAreRejected() throws Exception {
        String[][] cases = {{"size=101", "size"}, {"size=0", "size"}, {"page=0", "page"}, {"page=10001", "page"},
            {"page=x", "page"}, {"page=1&page=2", "page"}};
        for (String[] query : cases) {
            ClientResponse response = handler.handle(request("GET", "/categories/1/products", query[0], null, Map.of()));

            assertThat(response.status()).as(query[0]).isEqualTo(400);
            assertThat(json(response).get("field").asText()).as(query[0]).isEqualTo(query[1]);
        }
        assertThat(json(handler.handle(request("GET", "/categories/1/products", "size=101", null, Map.of())))
                .get("accepted").asText()).isEqualTo("an integer from 1 to 100");
    }

    @Test
    void staticPathTraversalIsRejected() throws Exception {
        for (String path : new String[] {"/static/../etc/passwd", "/static/css/%2e%2e/secret", "/static/a/./b", "/static//x"}) {
            ClientResponse response = handler.handle(request("GET", path, null, Map.of()));

            assertThat(response.status()).as(path).isEqualTo(400);
            assertThat(json(response).get("field").asText()).as(path).isEqualTo("path");
            assertThat(json(response).get("accepted").asText()).as(path).contains("without '.' or '..' segments");
        }
    }

    @Test
    void unreachableDatabaseIsUnavailable() throws Exception {
        ClientResponse response = handler.handle(request("GET", "/products/1", null, Map.of()));

        assertThat(response.status()).isEqualTo(503);
        assertThat(response.headers()).containsEntry("retry-after", "1");
        assertThat(json(response).get("error").asText()).isEqualTo("unavailable");
        assertThat(response.servedBy()).isEqualTo("app-1");
        assertThat(response.answeredAtMs()).isEqualTo(CLOCK.millis());
        assertThat(handler.handle(request("GET", "/static/css/site.css", null, Map.of())).status()).isEqualTo(503);
    }

    @Test
    void answersAreCountedByStatusClass() {
        handler.handle(request("GET", "/nothing", null, Map.of()));
        handler.handle(request("GET", "/products/x", null, Map.of()));
        handler.handle(request("GET", "/products/1", null, Map.of()));

        assertThat(handler.answeredByStatusClass()).containsExactly(
                Map.entry("1xx", 0L), Map.entry("2xx", 0L), Map.entry("3xx", 0L), Map.entry("4xx", 2L), Map.entry("5xx", 1L));
        assertThat(registry.get("backbone.app.requests").tag("status", "4xx").counter().count()).isEqualTo(2.0);
        assertThat(registry.get("backbone.app.requests").tag("status", "5xx").counter().count()).isEqualTo(1.0);
    }

    private Map<String, String> bearer() {
        return Map.of("authorization", "Bearer " + signer.mint("alice", Duration.ofHours(1)));
    }

    private double failures(String reason) {
        return registry.get("backbone.auth.failures").tag("reason", reason).counter().count();
    }

    private static ClientRequest request(String method, String path, String body, Map<String, String> headers) {
        return request(method, path, "", body, headers);
    }

    private static ClientRequest request(String method, String path, String query, String body, Map<String, String> headers) {
        return new ClientRequest(ClientRequest.SCHEMA_VERSION, "req-1", "client-1", "eu-west", "DE", "shop.example.com",
                method, path, query, headers, body, "ingest-1", 0, CLOCK.millis(), CLOCK.millis() + 10_000);
    }

    private static JsonNode json(ClientResponse response) throws Exception {
        return Json.mapper().readTree(response.body());
    }

    /** A data source whose every connection attempt fails as a pool timeout does. */
    private static final class UnreachableDatabase implements DataSource {

        @Override
        public Connection getConnection() throws SQLException {
            throw new SQLTransientConnectionException("connection is not available, request timed out after 10000ms");
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            return getConnection();
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> type) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> type) {
            return false;
        }
    }
}
