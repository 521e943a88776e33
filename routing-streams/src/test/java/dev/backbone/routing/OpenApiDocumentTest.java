package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The OpenAPI document lists exactly the routes that {@link RoutingApiHandler} serves. */
class OpenApiDocumentTest {

    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");

    private final HttpClient http = HttpClient.newHttpClient();
    private RestServer server;

    @BeforeEach
    void startServer() {
        server = RestServer.bind("127.0.0.1", 0);
        // No admin or query API: these tests only check which routes the handler dispatches.
        server.start(new RoutingApiHandler(null, null, null, new SimpleMeterRegistry(), null, "127.0.0.1:" + server.port()));
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    private HttpResponse<String> send(String method, String path) throws Exception {
        var request = HttpRequest.newBuilder(server.uri().resolve(path)).timeout(Duration.ofSeconds(30))
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> documentedRoutes(JsonNode document) {
        var routes = new ArrayList<String>();
        document.get("paths").fields().forEachRemaining(path -> path.getValue().fieldNames().forEachRemaining(method -> {
            if (METHODS.contains(method)) {
                routes.add(method.toUpperCase(Locale.ROOT) + " " + path.getKey());
            }
        }));
        return routes;
    }

    @Test
    void documentListsEveryServedRoute() throws Exception {
        JsonNode document = Json.mapper().readTree(RoutingApiHandler.openApiDocument());

        assertThat(document.get("openapi").asText()).startsWith("3.0");
        assertThat(documentedRoutes(document)).containsExactlyInAnyOrderElementsOf(RoutingApiHandler.ROUTES);
    }

    @Test
    void everyErrorResponseUsesErrorSchema() throws Exception {
        JsonNode document = Json.mapper().readTree(RoutingApiHandler.openApiDocument());

        document.get("components").get("responses").fields().forEachRemaining(response ->
                assertThat(response.getValue().at("/content/application~1json/schema/$ref").asText())
                        .as(response.getKey()).isEqualTo("#/components/schemas/Error"));
        assertThat(document.at("/components/responses/Unavailable/headers/Retry-After").isMissingNode()).isFalse();
    }

    @Test
    void everyListedRouteIsDispatched() throws Exception {
        for (String route : RoutingApiHandler.ROUTES) {
            String method = route.substring(0, route.indexOf(' '));
            String path = route.substring(route.indexOf(' ') + 1).replaceAll("\\{[A-Za-z]+}", "x");

            // The handler returns 404 "no route" for an unknown route, and 405 for a known path with another method.
            HttpResponse<String> response = send(method, path);
            assertThat(response.body()).as(route).doesNotContain("no route");
            HttpResponse<String> wrongMethod = send("PATCH", path);
            assertThat(wrongMethod.statusCode()).as("PATCH on " + path).isEqualTo(405);
        }
    }

    @Test
    void documentServedAsJson() throws Exception {
        HttpResponse<String> response = send("GET", RoutingApiHandler.OPENAPI_PATH);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        assertThat(Json.mapper().readTree(response.body()).get("paths").has(RoutingApiHandler.RESOLVE_PATH)).isTrue();
    }

    @Test
    void unknownRouteNamesDocument() throws Exception {
        HttpResponse<String> response = send("GET", "/api/nothing");

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(Json.mapper().readTree(response.body()).get("message").asText())
                .contains(RoutingApiHandler.OPENAPI_PATH).contains("GET " + RoutingApiHandler.LB_LOAD_PATH);
    }
}
