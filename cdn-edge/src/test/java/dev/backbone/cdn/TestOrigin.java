package dev.backbone.cdn;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;

/**
 * A real HTTP origin on 127.0.0.1 for edge tests, or an HTTPS one: each path responds with what its {@link Responder}
 * returns, and every request is recorded, so tests count origin fetches per path.
 */
final class TestOrigin implements AutoCloseable {

    /**
     * One request as the origin received it.
     *
     * @param call    the 1-based number of this request among the requests for its path
     * @param headers the headers, names as the JDK server normalizes them
     */
    record Received(String method, String path, String query, Headers headers, byte[] body, int call) {

        String header(String name) {
            return headers.getFirst(name);
        }
    }

    /** One response. */
    record Reply(int status, Map<String, String> headers, byte[] body) {

        static Reply ok(String body, Map<String, String> headers) {
            return new Reply(200, headers, body.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Produces the response to one request; may block, such as on a latch, to hold a fetch in flight. */
    interface Responder {
        Reply reply(Received request) throws Exception;
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Map<String, Responder> responders = new ConcurrentHashMap<>();
    private final Map<String, List<Received>> received = new ConcurrentHashMap<>();

    TestOrigin() throws IOException {
        this(null);
    }

    /** Starts an HTTPS origin with the key of {@code tls}, or an HTTP one when it is null. */
    TestOrigin(SSLContext tls) throws IOException {
        var address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        if (tls == null) {
            server = HttpServer.create(address, 100);
        } else {
            var https = HttpsServer.create(address, 100);
            https.setHttpsConfigurator(new HttpsConfigurator(tls));
            server = https;
        }
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    URI uri() {
        String scheme = server instanceof HttpsServer ? "https" : "http";
        return URI.create(scheme + "://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    void route(String path, Responder responder) {
        responders.put(path, responder);
    }

    /** Returns the requests received for a path so far, oldest first. */
    List<Received> received(String path) {
        return List.copyOf(received.getOrDefault(path, List.of()));
    }

    int fetches(String path) {
        return received(path).size();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            List<Received> forPath = received.computeIfAbsent(path, key -> new CopyOnWriteArrayList<>());
            Received request;
            synchronized (forPath) {
                request = new Received(exchange.getRequestMethod(), path, exchange.getRequestURI().getRawQuery(),
                        exchange.getRequestHeaders(), exchange.getRequestBody().readAllBytes(), forPath.size() + 1);
                forPath.add(request);
            }
            Responder responder = responders.get(path);
            Reply reply = responder == null
                    ? new Reply(404, Map.of("Cache-Control", "no-store"), "not found".getBytes(StandardCharsets.UTF_8))
                    : responder.reply(request);
            reply.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
            boolean bodyless = reply.status() == 304 || reply.status() == 204 || exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(reply.status(), bodyless ? -1 : reply.body().length == 0 ? -1 : reply.body().length);
            if (!bodyless && reply.body().length > 0) {
                exchange.getResponseBody().write(reply.body());
            }
        } catch (Exception e) {
            throw new IOException("test origin failed: " + e, e);
        }
    }

    /** Stops listening, so that later fetches find the origin unreachable. Idempotent. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
