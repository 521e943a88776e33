package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The metrics and dashboard server on the one-JVM stack: its HTTP routes, the Grafana dashboard's meter names against
 * the real scrape output, and the {@code /dashboard} page in headless Chromium while a workload runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardBrowserIT {

    private static final Path SCREENSHOT = Path.of("target", "dashboard.png");
    private static final Path GRAFANA_DASHBOARD = Path.of("..", "compose", "grafana", "dashboards", "backbone.json");
    /** Panels the workload feeds. The CDN edge panel is checked apart, because the workload sends nothing through an edge. */
    private static final List<String> FED_PANELS = List.of("requests", "latency", "dns", "servers", "cache", "eviction", "purge");

    private LocalStack stack;
    private ObservabilityServer server;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    void start() {
        stack = LocalStack.start(StackOptions.ephemeral(2, 500, 10), step -> { });
        server = ObservabilityServer.start("127.0.0.1", 0, stack);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
            server.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(server.uri().resolve(path)).timeout(Duration.ofSeconds(20)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode snapshot() throws Exception {
        HttpResponse<String> response = get("/api/dashboard");
        assertThat(response.statusCode()).isEqualTo(200);
        return Json.mapper().readTree(response.body());
    }

    @Test
    void metricsIndexListsEveryComponent() throws Exception {
        HttpResponse<String> response = get("/metrics");

        assertThat(response.statusCode()).isEqualTo(200);
        List<String> components = new ArrayList<>();
        for (JsonNode entry : Json.mapper().readTree(response.body()).get("components")) {
            components.add(entry.get("component").asText());
            assertThat(entry.get("path").asText()).isEqualTo("/metrics/" + entry.get("component").asText());
        }
        assertThat(components).containsAll(stack.registries().keySet()).contains(ObservabilityServer.JVM_COMPONENT);
    }

    @Test
    void componentMetricsArePrometheusText() throws Exception {
        HttpResponse<String> ingest = get("/metrics/request-ingest");
        HttpResponse<String> jvm = get("/metrics/jvm");

        assertThat(ingest.statusCode()).isEqualTo(200);
        assertThat(ingest.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("text/plain"));
        assertThat(ingest.body()).contains("# TYPE backbone_ingest_requests_seconds histogram")
                .contains("backbone_ingest_requests_seconds_bucket{").contains("component=\"request-ingest\"");
        assertThat(jvm.statusCode()).isEqualTo(200);
        assertThat(jvm.body()).contains("jvm_memory_used_bytes").contains("jvm_threads_live_threads")
                .contains("system_cpu_count").contains("component=\"jvm\"");
    }

    @Test
    void unknownComponentIs404NamingComponents() throws Exception {
        HttpResponse<String> response = get("/metrics/no-such-service");

        assertThat(response.statusCode()).isEqualTo(404);
        JsonNode body = Json.mapper().readTree(response.body());
        assertThat(body.get("error").asText()).isEqualTo("not_found");
        assertThat(body.get("component").asText()).isEqualTo("no-such-service");
        List<String> accepted = new ArrayList<>();
        body.get("components").forEach(name -> accepted.add(name.asText()));
        assertThat(accepted).contains("request-ingest", "routing-streams", "app-1", "app-2", "cache-invalidator", "jvm");
        assertThat(body.get("message").asText()).contains("no-such-service").contains("request-ingest");
    }

    @Test
    void unknownRouteAndAssetAre404() throws Exception {
        HttpResponse<String> route = get("/nowhere");
        HttpResponse<String> asset = get("/assets/../../etc/passwd");
        HttpResponse<String> page = get("/assets/dashboard.html");

        assertThat(route.statusCode()).isEqualTo(404);
        assertThat(route.body()).contains("/metrics/{component}").contains("/api/dashboard");
        assertThat(asset.statusCode()).isIn(400, 404);
        assertThat(page.statusCode()).isEqualTo(404);
    }

    @Test
    void postIs405WithAllowHeader() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(server.uri().resolve("/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(405);
        assertThat(response.headers().firstValue("Allow")).hasValue("GET, HEAD");
    }

    @Test
    void pageAndAssetsAreServedFromJar() throws Exception {
        HttpResponse<String> page = get("/dashboard");
        HttpResponse<String> uplot = get("/assets/uPlot.iife.min.js");
        HttpResponse<String> script = get("/assets/dashboard.js");

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("/assets/uPlot.iife.min.js").contains("/assets/dashboard.js").doesNotContain("https://");
        assertThat(uplot.statusCode()).isEqualTo(200);
        assertThat(uplot.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("text/javascript"));
        assertThat(uplot.body()).contains("uPlot");
        assertThat(script.body()).contains("/api/dashboard").contains("dashboardState");
    }

    @Test
    void snapshotHasEveryField() throws Exception {
        JsonNode snapshot = snapshot();

        for (String field : List.of("timestampMs", "intervalSeconds", "lagWindowSeconds", "requests", "latencyMs",
                "dnsLookups", "appServers", "cacheHitRatio", "evictionLagMs", "purgeLagMs", "edgeHitRatio")) {
            assertThat(snapshot.has(field)).as("field %s in %s", field, snapshot).isTrue();
        }
        assertThat(snapshot.get("requests").has("perSecond")).isTrue();
        assertThat(snapshot.get("requests").get("byStatus").isObject()).isTrue();
        assertThat(snapshot.get("latencyMs").has("p99")).isTrue();
        assertThat(snapshot.get("purgeLagMs").get("published").has("p99")).isTrue();
        List<String> servers = new ArrayList<>();
        snapshot.get("appServers").forEach(appServer -> servers.add(appServer.get("id").asText()));
        assertThat(servers).containsExactly("app-1", "app-2");
    }

    @Test
    void snapshotCountsRequestsAndServerStates() throws Exception {
        // Each poll sends one request, so the last second always has traffic while the sampler catches up.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            HttpResponse<Void> answer = http.send(HttpRequest.newBuilder(stack.frontDoorUri().resolve("/products/5"))
                    .header("Host", LocalStack.SITE).header("X-Client-Id", "snapshot-probe").timeout(Duration.ofSeconds(20))
                    .GET().build(), HttpResponse.BodyHandlers.discarding());
            assertThat(answer.statusCode()).isEqualTo(200);

            JsonNode snapshot = snapshot();
            assertThat(snapshot.get("requests").get("byStatus").path("2xx").asDouble()).isPositive();
            assertThat(snapshot.get("latencyMs").get("p50").isNumber()).as("p50 in %s", snapshot).isTrue();
            for (JsonNode appServer : snapshot.get("appServers")) {
                assertThat(appServer.get("ready").asBoolean()).as("%s", appServer).isTrue();
                assertThat(appServer.get("loadBalancerState").asText()).as("%s", appServer).isEqualTo("UP");
            }
        });
    }

    @Test
    void grafanaQueriesUseScrapedMeterNames() throws Exception {
        Set<String> queried = new TreeSet<>();
        Matcher names = Pattern.compile("backbone_[a-z_]+").matcher(Files.readString(GRAFANA_DASHBOARD));
        while (names.find()) {
            queried.add(names.group());
        }
        var scraped = new StringBuilder();
        for (String component : stack.registries().keySet()) {
            scraped.append(get("/metrics/" + component).body());
        }

        // Edge meters can only be checked when the stack runs a CDN edge, with a registry named cdn-edge-<region>.
        boolean edges = stack.registries().keySet().stream().anyMatch(component -> component.startsWith("cdn-edge"));

        assertThat(queried).as("meter names in %s", GRAFANA_DASHBOARD).isNotEmpty();
        for (String name : queried) {
            if (edges || !name.startsWith("backbone_edge_")) {
                assertThat(scraped.indexOf(name)).as("%s is queried by Grafana but no component exposes it", name).isNotNegative();
            }
        }
    }

    @Test
    void dashboardChartsReceiveDataInChromium() throws Exception {
        if (!Files.isExecutable(HeadlessChromium.EXECUTABLE)) {
            String message = HeadlessChromium.EXECUTABLE + " is missing; install Debian's chromium package to run this test";
            if (Boolean.getBoolean("backbone.browser.required")) {
                fail(message + " (backbone.browser.required=true)");
            }
            Assumptions.abort(message);
        }
        URI page = server.uri().resolve("/dashboard");
        try (var chromium = HeadlessChromium.open(page, 1280, 1600, Path.of("target", "chromium.log"))) {
            await("the page polls /api/dashboard").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> chromium.evaluate("window.dashboardState ? window.dashboardState.polls : 0").asInt() > 0);

            var workload = new Workload(stack.frontDoorUri(), LocalStack.SITE,
                    new Workload.Options(1_500, 2, 0.05, 1.0, 500, 200, 7), stack.mintToken("dashboard-test", Duration.ofHours(1)));
            CompletableFuture<RunResult> run = CompletableFuture.supplyAsync(() -> runQuietly(workload));

            await("every fed panel has data").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> {
                        JsonNode panels = chromium.evaluate(PANELS_EXPRESSION);
                        for (String id : FED_PANELS) {
                            JsonNode panel = panels.path(id);
                            assertThat(panel.path("points").asInt()).as("data points of panel %s: %s", id, panels).isPositive();
                            assertThat(panel.path("max").asDouble()).as("max value of panel %s: %s", id, panels).isPositive();
                            assertThat(panel.path("noDataShown").asBoolean()).as("'no data yet' on panel %s", id).isFalse();
                            assertThat(panel.path("canvases").asInt()).as("uPlot canvas of panel %s", id).isPositive();
                        }
                        assertThat(panels.path("requests").path("points").asInt()).as("request rate points").isGreaterThanOrEqualTo(2);
                    });
            // A few more seconds of history make the screenshot show lines rather than single points.
            await("ten request rate points").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> chromium.evaluate(PANELS_EXPRESSION).path("requests").path("points").asInt() >= 10);
            chromium.screenshot(SCREENSHOT);

            RunResult result = run.get(120, TimeUnit.SECONDS);
            JsonNode state = chromium.evaluate("JSON.stringify(window.dashboardState)");
            JsonNode dashboardState = Json.mapper().readTree(state.asText());
            JsonNode panels = chromium.evaluate(PANELS_EXPRESSION);

            assertThat(result.count(200, 299)).as("workload successes").isPositive();
            assertThat(dashboardState.get("errors").asInt()).as("failed polls: %s", dashboardState).isZero();
            // The workload sends no request through a CDN edge, so the edge panel may have no data. It must then show that.
            JsonNode edge = panels.path("edge");
            assertThat(edge.path("noDataShown").asBoolean()).as("'no data yet' on the edge panel: %s", edge)
                    .isEqualTo(edge.path("points").asInt() == 0);
            assertThat(Files.size(SCREENSHOT)).as("screenshot bytes").isGreaterThan(10_000);
        }
    }

    /** Reads each panel's DOM hook: data-points, data-max, whether "no data yet" shows, and its uPlot canvases. */
    private static final String PANELS_EXPRESSION = """
            Object.fromEntries(Array.from(document.querySelectorAll('.panel')).map(panel => [
              panel.id.replace('panel-', ''),
              { points: Number(panel.dataset.points), max: Number(panel.dataset.max),
                noDataShown: getComputedStyle(panel.querySelector('.no-data')).display !== 'none',
                canvases: panel.querySelectorAll('canvas').length }]))
            """;

    private static RunResult runQuietly(Workload workload) {
        try {
            return workload.run(new PrintStream(PrintStream.nullOutputStream()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("the workload was interrupted", e);
        }
    }
}
