package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The request path against Kafka, PostgreSQL with logical decoding and Redis in containers, with every service in this
 * JVM ({@link LocalStack#startOn}): a product read through the front door equals its PostgreSQL row, and an SQL update
 * is visible through the front door once change data capture has evicted the cached copies. It runs with
 * {@code -Pcontainers} and is skipped with a message where no Docker engine is reachable, unless
 * {@code backbone.docker.required} is true. {@link RequestPathIT} makes the same checks on the in-process Kafka and
 * PostgreSQL in the default build.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContainersRequestPathIT {

    private static final Logger log = LoggerFactory.getLogger(ContainersRequestPathIT.class);

    private static final String SKIP_MESSAGE = BackboneContainers.skipMessage(ContainersRequestPathIT.class, RequestPathIT.class);

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private BackboneContainers containers;
    private LocalStack stack;
    private boolean dockerAvailable;

    @BeforeAll
    void start() {
        dockerAvailable = BackboneContainers.dockerAvailable(log, SKIP_MESSAGE);
        if (!dockerAvailable) {
            return;
        }
        containers = BackboneContainers.start();
        stack = LocalStack.startOn(containers.services(), StackOptions.ephemeral(2, 500, 10).withRedis(containers.redisUri()),
                log::info);
    }

    /** Skips each test rather than the class, so that the build output counts them as skipped. */
    @BeforeEach
    void requireDocker() {
        assumeTrue(dockerAvailable, SKIP_MESSAGE);
    }

    @AfterAll
    void stop() {
        if (stack != null) {
            stack.close();
        }
        if (containers != null) {
            containers.close();
        }
    }

    private HttpResponse<String> get(String path, String clientId) throws Exception {
        var request = HttpRequest.newBuilder(stack.frontDoorUri().resolve(path))
                .header("Host", LocalStack.SITE).header("X-Client-Id", clientId).timeout(Duration.ofSeconds(20)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode productRow(long id) throws Exception {
        try (Connection connection = DriverManager.getConnection(stack.jdbcUrl());
             PreparedStatement statement = connection.prepareStatement(
                     "SELECT name, price_cents, version FROM products WHERE id = ?")) {
            statement.setLong(1, id);
            try (ResultSet rs = statement.executeQuery()) {
                assertThat(rs.next()).as("product %d exists in PostgreSQL", id).isTrue();
                return Json.mapper().createObjectNode().put("name", rs.getString(1)).put("priceCents", rs.getLong(2))
                        .put("version", rs.getLong(3));
            }
        }
    }

    @Test
    void getReturnsPostgresRow() throws Exception {
        HttpResponse<String> response = get("/products/42", "alice");

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode product = Json.mapper().readTree(response.body());
        JsonNode row = productRow(42);
        assertThat(product.get("id").asLong()).isEqualTo(42);
        assertThat(product.get("name").asText()).isEqualTo(row.get("name").asText());
        assertThat(product.get("priceCents").asLong()).isEqualTo(row.get("priceCents").asLong());
        assertThat(product.get("version").asLong()).isEqualTo(row.get("version").asLong());
    }

    @Test
    void sqlUpdateIsVisibleThroughFrontDoor() throws Exception {
        // Two clients, because the load balancer may send them to different app servers: both caches must be evicted.
        for (String client : List.of("bob", "carol")) {
            assertThat(get("/products/7", client).statusCode()).isEqualTo(200);
        }

        try (Connection connection = DriverManager.getConnection(stack.jdbcUrl());
             PreparedStatement statement = connection.prepareStatement("UPDATE products SET price_cents = 424242 WHERE id = 7")) {
            assertThat(statement.executeUpdate()).isEqualTo(1);
        }

        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            for (String client : List.of("bob", "carol")) {
                JsonNode product = Json.mapper().readTree(get("/products/7", client).body());
                assertThat(product.get("priceCents").asLong()).as("price read by %s", client).isEqualTo(424242);
            }
        });
        assertThat(productRow(7).get("priceCents").asLong()).isEqualTo(424242);
    }
}
