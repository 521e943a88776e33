package dev.backbone.routing;

import java.net.URI;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Jetty server of the REST API. {@link #bind} opens the port first, so that the bound port is known before Kafka
 * Streams is created with it as {@code application.server}; {@link #start} then serves a handler. Thread-safe.
 */
final class RestServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RestServer.class);

    private final Server server;
    private final ServerConnector connector;
    private final String host;

    private RestServer(Server server, ServerConnector connector, String host) {
        this.server = server;
        this.connector = connector;
        this.host = host;
    }

    /**
     * Binds {@code host:port}; port 0 picks a free port.
     *
     * @throws IllegalStateException when the port cannot be bound, naming {@code rest.host} and {@code rest.port}
     */
    static RestServer bind(String host, int port) {
        var threads = new QueuedThreadPool(32, 2);
        threads.setName("routing-rest");
        var server = new Server(threads);
        var httpConfig = new HttpConfiguration();
        httpConfig.setSendServerVersion(false);
        var connector = new ServerConnector(server, new HttpConnectionFactory(httpConfig));
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);
        try {
            connector.open();
        } catch (Exception e) {
            throw new IllegalStateException("cannot bind the routing REST API to rest.host=" + host + " rest.port="
                    + port + ": " + e.getMessage() + "; set rest.port to a free port, or 0 to pick one", e);
        }
        return new RestServer(server, connector, host);
    }

    /** Returns the bound port. */
    int port() {
        return connector.getLocalPort();
    }

    /** Returns the base URI, such as {@code http://127.0.0.1:8081/}. */
    URI uri() {
        String shownHost = host.contains(":") ? "[" + host + "]" : host;
        return URI.create("http://" + shownHost + ":" + port() + "/");
    }

    /** Starts serving {@code handler}. @throws IllegalStateException when Jetty cannot start */
    void start(Handler handler) {
        server.setHandler(handler);
        try {
            server.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the routing REST API on " + uri() + ": " + e.getMessage(), e);
        }
        log.info("Routing REST API listening on {}", uri());
    }

    /** Stops the server and releases the port. Idempotent. */
    @Override
    public void close() {
        try {
            server.stop();
            connector.close();
        } catch (Exception e) {
            log.warn("Cannot stop the routing REST API on {} cleanly: {}", uri(), e.toString());
        }
    }
}
