package dev.backbone.launcher;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.backbone.appserver.AppServer;
import dev.backbone.events.Json;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metrics and dashboard HTTP server of the one-JVM stack.
 *
 * <pre>
 * GET /                        302 to /dashboard
 * GET /metrics                 JSON index: each component and the path of its Prometheus text
 * GET /metrics/{component}     Prometheus text (format 0.0.4) of one component's registry
 * GET /api/dashboard           JSON snapshot of the dashboard figures, recomputed every second
 * GET /dashboard               the live dashboard page
 * GET /assets/{file}           the page's script and style sheet, and uPlot
 * </pre>
 *
 * Components are the stack's registries ({@link LocalStack#registries()}) plus {@value #JVM_COMPONENT}, a registry
 * of this server's own with the JVM's memory, garbage collection, thread and processor meters. Errors are JSON
 * {@code {"error": ..., "message": ...}}. {@link #close()} stops the server and the sampler but not the stack, which
 * the caller owns. Thread-safe.
 */
public final class ObservabilityServer implements AutoCloseable {

    /** The component name of the JVM meters. */
    public static final String JVM_COMPONENT = "jvm";

    private static final Logger log = LoggerFactory.getLogger(ObservabilityServer.class);
    private static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String JSON_CONTENT_TYPE = "application/json";
    private static final String METRICS_PATH = "/metrics";
    private static final String ASSETS_PATH = "/assets/";
    private static final String DASHBOARD_PATH = "/dashboard";
    private static final String SNAPSHOT_PATH = "/api/dashboard";

    private final LocalStack stack;
    private final PrometheusMeterRegistry jvmRegistry;
    private final JvmGcMetrics gcMetrics;
    private final StaticAssets assets;
    private final Server server;
    private final ServerConnector connector;
    private DashboardSampler sampler;
    private boolean closed;

    private ObservabilityServer(String host, int port, LocalStack stack) {
        this.stack = stack;
        this.assets = StaticAssets.load();
        this.jvmRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        jvmRegistry.config().commonTags("component", JVM_COMPONENT);
        new JvmMemoryMetrics().bindTo(jvmRegistry);
        this.gcMetrics = new JvmGcMetrics();
        gcMetrics.bindTo(jvmRegistry);
        new JvmThreadMetrics().bindTo(jvmRegistry);
        new ProcessorMetrics().bindTo(jvmRegistry);

        var threads = new QueuedThreadPool(16, 2);
        threads.setName("observability-http");
        this.server = new Server(threads);
        var httpConfig = new HttpConfiguration();
        httpConfig.setSendServerVersion(false);
        this.connector = new ServerConnector(server, new HttpConnectionFactory(httpConfig));
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(new Routes());
    }

    /**
     * Starts serving the stack's metrics and dashboard on {@code host:port}.
     *
     * @param host the address to bind, such as {@code 127.0.0.1}
     * @param port the port; 0 picks a free one
     * @throws IllegalArgumentException when the port is outside 0 to 65535
     * @throws IllegalStateException    when the port cannot be bound or a dashboard file is missing from the class path;
     *                                  nothing stays open
     */
    public static ObservabilityServer start(String host, int port, LocalStack stack) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(stack, "stack");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("the dashboard port must be from 0 to 65535, got " + port);
        }
        var observability = new ObservabilityServer(host, port, stack);
        try {
            observability.startServing();
        } catch (RuntimeException e) {
            observability.close();
            throw e;
        }
        log.info("Metrics and dashboard listening on {} (components: {})", observability.uri(), observability.components().keySet());
        return observability;
    }

    private void startServing() {
        var loadBalancerStates = new LoadBalancerStates(stack.routingApiUri(), LocalStack.POOL);
        sampler = DashboardSampler.start(stack::registries, () -> serverHealth(loadBalancerStates), Clock.systemUTC());
        try {
            server.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the metrics and dashboard server on " + connector.getHost() + ":"
                    + connector.getPort() + ": " + e.getMessage() + "; choose a free port, or 0 to pick one", e);
        }
    }

    private List<DashboardSampler.ServerHealth> serverHealth(LoadBalancerStates loadBalancerStates) {
        Map<String, String> states = loadBalancerStates.read();
        var health = new ArrayList<DashboardSampler.ServerHealth>();
        for (AppServer appServer : stack.appServers()) {
            String id = appServer.config().serverId();
            health.add(new DashboardSampler.ServerHealth(id, appServer.ready(), states.getOrDefault(id, "UNKNOWN")));
        }
        return health;
    }

    /** Returns the base URI, such as {@code http://127.0.0.1:8079/}. */
    public URI uri() {
        String host = connector.getHost();
        String shownHost = host.contains(":") ? "[" + host + "]" : host;
        return URI.create("http://" + shownHost + ":" + connector.getLocalPort() + "/");
    }

    /** Returns the registries served under {@code /metrics/{component}}: the stack's, then {@value #JVM_COMPONENT}. */
    Map<String, PrometheusMeterRegistry> components() {
        var components = new LinkedHashMap<String, PrometheusMeterRegistry>(stack.registries());
        components.put(JVM_COMPONENT, jvmRegistry);
        return components;
    }

    /** Stops the HTTP server and the sampler and closes the JVM registry; the stack keeps running. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("Cannot stop the metrics and dashboard server cleanly: {}", e.toString());
        }
        if (sampler != null) {
            sampler.close();
        }
        gcMetrics.close();
        jvmRegistry.close();
    }

    /** A response before it is written. */
    private record Reply(int status, String contentType, byte[] body, Map<String, String> headers) {

        static Reply of(String contentType, byte[] body) {
            return new Reply(200, contentType, body, Map.of());
        }

        static Reply json(int status, Object value) {
            try {
                return new Reply(status, JSON_CONTENT_TYPE, Json.mapper().writeValueAsBytes(value), Map.of());
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("cannot write a response as JSON: " + e.getMessage(), e);
            }
        }

        static Reply error(int status, String error, String message, Map<String, Object> fields) {
            var body = new LinkedHashMap<String, Object>();
            body.put("error", error);
            body.put("message", message);
            body.putAll(fields);
            return json(status, body);
        }
    }

    private final class Routes extends Handler.Abstract {

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            Reply reply;
            try {
                reply = route(request);
            } catch (RuntimeException e) {
                log.error("Request {} {} failed", request.getMethod(), Request.getPathInContext(request), e);
                reply = Reply.error(500, "internal_error", "the request failed: " + e.getClass().getSimpleName()
                        + "; see the log", Map.of());
            }
            response.setStatus(reply.status());
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, reply.contentType());
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            reply.headers().forEach((name, value) -> response.getHeaders().put(name, value));
            response.write(true, ByteBuffer.wrap(reply.body()), callback);
            return true;
        }

        private Reply route(Request request) {
            String path = Request.getPathInContext(request);
            String method = request.getMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                Reply rejected = Reply.error(405, "method_not_allowed", method + " is not allowed on " + path
                        + "; use GET", Map.of("method", method, "path", path));
                return new Reply(rejected.status(), rejected.contentType(), rejected.body(), Map.of("Allow", "GET, HEAD"));
            }
            if (path.equals("/")) {
                return new Reply(302, "text/plain; charset=utf-8", "see /dashboard".getBytes(StandardCharsets.UTF_8),
                        Map.of("Location", DASHBOARD_PATH));
            }
            if (path.equals(METRICS_PATH)) {
                return metricsIndex();
            }
            if (path.startsWith(METRICS_PATH + "/")) {
                return metrics(path.substring(METRICS_PATH.length() + 1));
            }
            if (path.equals(SNAPSHOT_PATH)) {
                return Reply.of(JSON_CONTENT_TYPE, sampler.snapshot());
            }
            if (path.equals(DASHBOARD_PATH)) {
                StaticAssets.Asset page = assets.get(StaticAssets.PAGE);
                return Reply.of(page.contentType(), page.body());
            }
            if (path.startsWith(ASSETS_PATH)) {
                return asset(path.substring(ASSETS_PATH.length()));
            }
            return Reply.error(404, "not_found", "no route " + path + "; routes: /, " + METRICS_PATH + ", " + METRICS_PATH
                    + "/{component}, " + SNAPSHOT_PATH + ", " + DASHBOARD_PATH + ", " + ASSETS_PATH + "{file}", Map.of("path", path));
        }

        private Reply metricsIndex() {
            var entries = new ArrayList<Map<String, String>>();
            for (String component : components().keySet()) {
                entries.add(Map.of("component", component, "path", METRICS_PATH + "/" + component));
            }
            return Reply.json(200, Map.of("components", entries));
        }

        private Reply metrics(String component) {
            Map<String, PrometheusMeterRegistry> components = components();
            PrometheusMeterRegistry registry = components.get(component);
            if (registry == null) {
                return Reply.error(404, "not_found", "no component '" + component + "'; components: "
                        + String.join(", ", components.keySet()),
                        Map.of("component", component, "components", List.copyOf(components.keySet())));
            }
            return Reply.of(PROMETHEUS_CONTENT_TYPE, registry.scrape().getBytes(StandardCharsets.UTF_8));
        }

        private Reply asset(String name) {
            StaticAssets.Asset asset = assets.get(name);
            if (asset == null || name.equals(StaticAssets.PAGE)) {
                return Reply.error(404, "not_found", "no asset '" + name + "'; assets: " + String.join(", ", assets.names()),
                        Map.of("asset", name));
            }
            return Reply.of(asset.contentType(), asset.body());
        }
    }
}
