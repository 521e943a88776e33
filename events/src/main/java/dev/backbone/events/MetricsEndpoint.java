package dev.backbone.events;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP server that serves the Prometheus text of one registry at {@code GET /metrics}, for services whose own
 * port cannot serve it (the front door forwards every path to Kafka). Other paths get 404 with a JSON body, other
 * methods on {@code /metrics} get 405.
 *
 * <p>It runs the JDK's {@code com.sun.net.httpserver} server on one thread of its own. The caller owns the registry and
 * closes the endpoint. Thread-safe.
 */
public final class MetricsEndpoint implements AutoCloseable {

    /** The Prometheus text exposition format, version 0.0.4. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    public static final String PATH = "/metrics";
    /** The {@code metrics.port} value that turns the endpoint off. */
    public static final int PORT_OFF = -1;

    private static final Logger log = LoggerFactory.getLogger(MetricsEndpoint.class);
    /** A scrape in progress when {@link #close()} is called gets this long to finish. */
    private static final int STOP_DELAY_SECONDS = 1;

    private final HttpServer server;
    private final ExecutorService executor;
    private final String host;
    private boolean closed;

    private MetricsEndpoint(HttpServer server, ExecutorService executor, String host) {
        this.server = server;
        this.executor = executor;
        this.host = host;
    }

    /**
     * Starts the endpoint of a standalone service's {@code metrics.host} and {@code metrics.port}, logging its URI, or
     * logs that it is off and returns null when the port is {@link #PORT_OFF}.
     *
     * @throws UncheckedIOException as {@link #start} does
     */
    public static MetricsEndpoint startUnlessOff(String host, int port, PrometheusMeterRegistry registry) {
        if (port == PORT_OFF) {
            log.info("Metrics endpoint off (metrics.port={})", PORT_OFF);
            return null;
        }
        var endpoint = start(host, port, registry);
        log.info("Serving metrics at {}", endpoint.uri());
        return endpoint;
    }

    /** Closes {@code endpoint} unless it is null, as {@link #startUnlessOff} returns for a port that is off. */
    public static void closeIfStarted(MetricsEndpoint endpoint) {
        if (endpoint != null) {
            endpoint.close();
        }
    }

    /**
     * Binds {@code host:port} and starts serving.
     *
     * @param port the TCP port, or 0 for a free port (read it back from {@link #uri()})
     * @throws UncheckedIOException when the address cannot be bound, for example because the port is in use. Pick
     *                              another port or 0
     */
    public static MetricsEndpoint start(String host, int port, PrometheusMeterRegistry registry) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(registry, "registry");
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind the metrics endpoint to " + host + ":" + port
                    + "; choose another metrics.port, or 0 for a free port", e);
        }
        ExecutorService executor = Executors.newSingleThreadExecutor(runnable -> {
            var thread = new Thread(runnable, "metrics-http-" + server.getAddress().getPort());
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        server.createContext("/", exchange -> handle(exchange, registry));
        server.start();
        return new MetricsEndpoint(server, executor, host);
    }

    private static void handle(HttpExchange exchange, PrometheusMeterRegistry registry) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (!PATH.equals(path)) {
                send(exchange, 404, "application/json", "{\"error\":\"not found\",\"path\":\"" + jsonEscaped(path)
                        + "\",\"hint\":\"metrics are served at GET " + PATH + "\"}");
                return;
            }
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                send(exchange, 405, "application/json", "{\"error\":\"method not allowed\",\"allowed\":[\"GET\",\"HEAD\"]}");
                return;
            }
            send(exchange, 200, CONTENT_TYPE, registry.scrape());
        } catch (RuntimeException e) {
            log.warn("Metrics scrape of {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
            throw e;
        }
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        // A length of -1 means that no body follows.
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private static String jsonEscaped(String text) {
        var escaped = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                escaped.append('\\').append(c);
            } else if (c < 0x20) {
                escaped.append(String.format("\\u%04x", (int) c));
            } else {
                escaped.append(c);
            }
        }
        return escaped.toString();
    }

    /**
     * Binds the JVM meters (memory, garbage collection, threads, processor, class loading) to {@code registry}. Call
     * it once per registry, and only from a service's standalone {@code main}: the one-JVM launcher binds them once for
     * the whole process.
     */
    public static void bindJvmMetrics(MeterRegistry registry) {
        new JvmMemoryMetrics().bindTo(registry);
        // JvmGcMetrics listens to GC notifications until it is closed, and a standalone service never closes it.
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
    }

    /** Returns the address of the metrics page, such as {@code http://127.0.0.1:9401/metrics}. */
    public URI uri() {
        return URI.create("http://" + hostForUri() + ":" + server.getAddress().getPort() + PATH);
    }

    private String hostForUri() {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** Stops serving, giving a scrape in progress up to one second. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.stop(STOP_DELAY_SECONDS);
        executor.shutdownNow();
    }
}
