package dev.backbone.cdn;

import dev.backbone.events.DeadLetterPublisher;
import dev.backbone.events.KafkaClientMeters;
import dev.backbone.events.TopicAdmin;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One regional CDN edge: an HTTP cache in front of the origin (the front door) that pulls on a miss, serves by
 * {@code Cache-Control}, and drops or marks stale the responses of a surrogate key when a purge arrives from
 * {@code backbone.cdn-purges} or from {@code POST /admin/purge}. Responses carry {@code X-Cache} and {@code Age}.
 *
 * <p>{@link #start} returns once the HTTP server listens; call {@link #awaitPurgeSubscription(Duration)} before relying
 * on purges published right after the start. Thread-safe. The caller closes the edge and keeps ownership of the
 * meter registry.
 */
public final class CdnEdge implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CdnEdge.class);
    /** Largest request body passed through to the origin, for methods other than GET and HEAD. */
    private static final int MAX_REQUEST_BODY_BYTES = 16 * 1024 * 1024;

    private final EdgeConfig config;
    private final Server server;
    private final OriginClient origin;
    private final CachingProxy proxy;
    private final PurgeListener purgeListener;
    private final Producer<byte[], byte[]> deadLetterProducer;
    /** {@code null} when the edge has no Kafka. */
    private final KafkaClientMeters kafkaMeters;
    private final EdgeMetrics metrics;
    private boolean closed;

    private CdnEdge(EdgeConfig config, Server server, OriginClient origin, CachingProxy proxy, PurgeListener purgeListener,
            Producer<byte[], byte[]> deadLetterProducer, KafkaClientMeters kafkaMeters, EdgeMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        this.kafkaMeters = kafkaMeters;
        this.server = server;
        this.origin = origin;
        this.proxy = proxy;
        this.purgeListener = purgeListener;
        this.deadLetterProducer = deadLetterProducer;
    }

    /**
     * Starts the edge: the purge consumer when {@link EdgeConfig#kafkaEnabled()}, creating its topics when missing,
     * then the HTTP server.
     *
     * @throws IllegalStateException when the port cannot be bound or Kafka rejects the topics
     */
    public static CdnEdge start(EdgeConfig config, MeterRegistry registry) {
        return start(config, registry, Clock.systemUTC());
    }

    /** Starts the edge with a clock of the caller's, which decides freshness and {@code Age}. */
    static CdnEdge start(EdgeConfig config, MeterRegistry registry, Clock clock) {
        log.info("Starting CDN edge: {}", config);
        var cache = new EdgeCache(config.cacheMaxBytes());
        var metrics = new EdgeMetrics(registry, config.region(), cache);
        var purger = new Purger(cache, metrics, clock);
        var origin = new OriginClient(config);
        var proxy = new CachingProxy(config, cache, origin, metrics, clock);

        Producer<byte[], byte[]> deadLetterProducer = null;
        PurgeListener purgeListener = null;
        KafkaClientMeters kafkaMeters = null;
        if (config.kafkaEnabled()) {
            try (Admin admin = Admin.create(adminConfig(config))) {
                TopicAdmin.ensureTopics(admin, List.of(Topics.CDN_PURGES, Topics.DEAD_LETTERS), config.topicReplicationFactor());
            } catch (RuntimeException e) {
                proxy.close();
                origin.close();
                throw e;
            }
            deadLetterProducer = new KafkaProducer<>(producerConfig(config), new ByteArraySerializer(), new ByteArraySerializer());
            var consumer = new KafkaConsumer<>(consumerConfig(config), new ByteArrayDeserializer(), new ByteArrayDeserializer());
            kafkaMeters = new KafkaClientMeters(registry, "edge-" + config.region());
            kafkaMeters.bind(deadLetterProducer);
            kafkaMeters.bind(consumer);
            purgeListener = new PurgeListener(config.purgeGroupId(), consumer,
                    new DeadLetterPublisher(deadLetterProducer, config.purgeGroupId()), purger, metrics, clock);
            purgeListener.start();
        } else {
            log.info("Edge {} has no bootstrap.servers: purges arrive only through POST {}", config.region(),
                    AdminEndpoint.PURGE_PATH);
        }

        Server server = new Server(threadPool(config));
        var edge = new CdnEdge(config, server, origin, proxy, purgeListener, deadLetterProducer, kafkaMeters, metrics);
        try {
            server.addConnector(connector(server, config));
            server.setHandler(new EdgeHandler(proxy, new AdminEndpoint(config.adminToken(), purger), registry,
                    MAX_REQUEST_BODY_BYTES));
            server.start();
        } catch (IllegalStateException e) {
            // A key store that changed or went missing since the configuration was read; the message names the key.
            edge.close();
            throw e;
        } catch (Exception e) {
            edge.close();
            throw new IllegalStateException("cannot start the edge HTTP server on " + config.httpHost() + ":"
                    + config.httpPort() + ": " + e.getMessage(), e);
        }
        log.info("CDN edge {} listening on {}, origin {}", config.region(), edge.uri(), config.originUrl());
        return edge;
    }

    /** Returns the HTTP connector, or the HTTPS one when {@code tls.keystore.path} is set. */
    private static ServerConnector connector(Server server, EdgeConfig config) {
        var httpConfig = new HttpConfiguration();
        httpConfig.setSendServerVersion(false);
        // The origin's Date is forwarded; a second one from Jetty would contradict it.
        httpConfig.setSendDateHeader(false);
        ServerConnector connector;
        if (config.tlsEnabled()) {
            var tls = new SslContextFactory.Server();
            tls.setKeyStore(config.tls().load());
            tls.setKeyStorePassword(config.tls().password());
            // The Host header names the site (shop.example.com), not the name in the edge's certificate, so Jetty's
            // check that the two match is off.
            var secure = new SecureRequestCustomizer();
            secure.setSniHostCheck(false);
            httpConfig.addCustomizer(secure);
            connector = new ServerConnector(server, new SslConnectionFactory(tls, HttpVersion.HTTP_1_1.asString()),
                    new HttpConnectionFactory(httpConfig));
        } else {
            connector = new ServerConnector(server, new HttpConnectionFactory(httpConfig));
        }
        connector.setHost(config.httpHost());
        connector.setPort(config.httpPort());
        return connector;
    }

    static Map<String, Object> adminConfig(EdgeConfig config) {
        return config.kafkaClient().applyTo(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers()));
    }

    static Map<String, Object> producerConfig(EdgeConfig config) {
        return config.kafkaClient().applyTo(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
                ProducerConfig.CLIENT_ID_CONFIG, config.purgeGroupId() + "-dead-letters",
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true));
    }

    static Map<String, Object> consumerConfig(EdgeConfig config) {
        return config.kafkaClient().applyTo(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, config.purgeGroupId(),
                ConsumerConfig.CLIENT_ID_CONFIG, config.purgeGroupId() + "-purges",
                // A starting edge has an empty cache, so purges published before it joined have nothing to remove.
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, true,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100));
    }

    private static QueuedThreadPool threadPool(EdgeConfig config) {
        var pool = new QueuedThreadPool(200, 8);
        pool.setName("edge-http-" + config.region());
        return pool;
    }

    /** Returns the base URI clients call, such as {@code http://127.0.0.1:8090/}, or {@code https://…} with TLS. */
    public URI uri() {
        return URI.create((config.tlsEnabled() ? "https" : "http") + "://" + config.httpHost() + ":" + port() + "/");
    }

    /** Returns the bound port, useful when {@code http.port} was 0. */
    public int port() {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    /** Returns how many requests wait for another request's origin fetch right now; for tests of coalescing. */
    int coalescedWaiting() {
        return proxy.coalescedWaiting();
    }

    /**
     * Returns a copy of the commit-to-purge lags of the purges this edge applied from Kafka, in milliseconds, the same
     * values as the {@code backbone.edge.purge.lag} timer. The caller may change the copy.
     */
    public org.HdrHistogram.Histogram purgeLagHistogram() {
        return metrics.purgeLagHistogram();
    }

    /**
     * Waits until the purge consumer has its partitions, so that every purge published from now on is applied. Returns
     * true at once when the edge has no Kafka.
     *
     * @return true when subscribed, false when the timeout passed first
     * @throws InterruptedException when interrupted while waiting
     */
    public boolean awaitPurgeSubscription(Duration timeout) throws InterruptedException {
        return purgeListener == null || purgeListener.awaitAssignment(timeout);
    }

    /**
     * Stops the HTTP server (letting requests in flight finish, up to the origin timeout), then the purge consumer,
     * the background refreshes and the origin client. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.setStopTimeout(config.originTimeoutMs());
            server.stop();
        } catch (Exception e) {
            log.warn("Edge {} HTTP server did not stop cleanly: {}", config.region(), e.toString());
        }
        if (kafkaMeters != null) {
            kafkaMeters.close();
        }
        if (purgeListener != null) {
            purgeListener.close();
        }
        if (deadLetterProducer != null) {
            deadLetterProducer.close(Duration.ofSeconds(5));
        }
        proxy.close();
        origin.close();
        log.info("CDN edge {} stopped", config.region());
    }
}
