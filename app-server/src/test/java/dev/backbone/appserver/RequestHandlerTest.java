package dev.backbone.appserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.Json;
import dev.backbone.storage.Product;
import dev.backbone.storage.ProductRepository;
import dev.backbone.storage.VersionedCache;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** Dispatch and errors that need no database; {@code AppServerIT} covers the responses read from PostgreSQL. */
class RequestHandlerTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2024-06-01T12:00:00Z"), ZoneOffset.UTC);

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RequestHandler handler = new RequestHandler(new ProductRepository(new UnreachableDatabase()),
            new VersionedCache<Long, Product>(VersionedCache.Config.of(10, Duration.ofMinutes(1))), "app-1", CLOCK, registry);

    @Test
    void unknownPathIsNotFound() throws Exception {
        for (String path : new String[] {"/", "/products", "/products/", "/products/1/reviews", "/categories/1"}) {
            ClientResponse response = handler.handle(request("GET", path, null));

            assertThat(response.status()).as(path).isEqualTo(404);
            assertThat(json(response).get("error").asText()).as(path).isEqualTo("not_found");
        }
    }

    @Test
    void wrongMethodIsNotAllowed() throws Exception {
        ClientResponse response = handler.handle(request("DELETE", "/products/1", null));

        assertThat(response.status()).isEqualTo(405);
        assertThat(response.headers()).containsEntry("allow", "GET, PUT").containsEntry("content-type", "application/json");
        assertThat(json(response).get("message").asText()).isEqualTo("method DELETE is not allowed on /products/1; allowed: GET, PUT");
    }

    @Test
    void invalidIdNamesFieldValueAndAccepted() throws Exception {
        for (String id : new String[] {"abc", "-5", "+5", "1.0", "99999999999999999999", "9223372036854775808"}) {
            ClientResponse response = handler.handle(request("GET", "/products/" + id, null));

            assertThat(response.status()).as(id).isEqualTo(400);
            JsonNode body = json(response);
            assertThat(body.get("field").asText()).as(id).isEqualTo("id");
            assertThat(body.get("value").asText()).as(id).isEqualTo(id);
            assertThat(body.get("accepted").asText()).as(id).isEqualTo("an integer from 0 to 9223372036854775807");
        }
    }

    @Test
    void invalidBodyIsRejectedBeforeDatabase() throws Exception {
        ClientResponse response = handler.handle(request("PUT", "/products/1", "{\"stock\":-3}"));

        assertThat(response.status()).isEqualTo(400);
        assertThat(json(response).get("field").asText()).isEqualTo("stock");
        assertThat(json(response).get("value").asText()).isEqualTo("-3");
    }

    @Test
    void unreachableDatabaseIsUnavailable() throws Exception {
        ClientResponse response = handler.handle(request("GET", "/products/1", null));

        assertThat(response.status()).isEqualTo(503);
        assertThat(response.headers()).containsEntry("retry-after", "1");
        assertThat(json(response).get("error").asText()).isEqualTo("unavailable");
        assertThat(response.servedBy()).isEqualTo("app-1");
        assertThat(response.answeredAtMs()).isEqualTo(CLOCK.millis());
    }

    @Test
    void answersAreCountedByStatusClass() {
        handler.handle(request("GET", "/nothing", null));
        handler.handle(request("GET", "/products/x", null));
        handler.handle(request("GET", "/products/1", null));

        assertThat(handler.answeredByStatusClass()).containsExactly(
                Map.entry("1xx", 0L), Map.entry("2xx", 0L), Map.entry("3xx", 0L), Map.entry("4xx", 2L), Map.entry("5xx", 1L));
        assertThat(registry.get("backbone.app.requests").tag("status", "4xx").counter().count()).isEqualTo(2.0);
        assertThat(registry.get("backbone.app.requests").tag("status", "5xx").counter().count()).isEqualTo(1.0);
    }

    private static ClientRequest request(String method, String path, String body) {
        return new ClientRequest(ClientRequest.SCHEMA_VERSION, "req-1", "client-1", "eu-west", "DE", "shop.example.com",
                method, path, "", Map.of(), body, "ingest-1", 0, CLOCK.millis(), CLOCK.millis() + 10_000);
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
