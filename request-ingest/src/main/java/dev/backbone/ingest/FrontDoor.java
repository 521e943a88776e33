package dev.backbone.ingest;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.DeadLetterPublisher;
import dev.backbone.events.KafkaClientMeters;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
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
 * The HTTP front door: a Jetty server whose every request becomes a {@link ClientRequest} event and whose response is the
 * matching response event from this instance's reply partition. {@link #close()} stops accepting requests, then
 * closes the Kafka clients.
 */
public final class FrontDoor implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FrontDoor.class);

    private final IngestConfig config;
    private final Server server;
    private final Producer<String, ClientRequest> producer;
    private final Producer<byte[], byte[]> deadLetterProducer;
    private final ResponseListener listener;
    private final PendingRequests pending;
    private final KafkaClientMeters kafkaMeters;
    private boolean closed;

    private FrontDoor(IngestConfig config, Server server, Producer<String, ClientRequest> producer,
                      Producer<byte[], byte[]> deadLetterProducer, ResponseListener listener, PendingRequests pending,
                      KafkaClientMeters kafkaMeters) {
        this.config = config;
        this.kafkaMeters = kafkaMeters;
        this.server = server;
        this.producer = producer;
        this.deadLetterProducer = deadLetterProducer;
        this.listener = listener;
        this.pending = pending;
    }

    /**
     * Positions on the reply partition, then starts the HTTP server, so that no response can arrive before it is awaited.
     *
     * @throws IllegalStateException when Kafka cannot be reached or the port cannot be bound
     */
    public static FrontDoor start(IngestConfig config, MeterRegistry registry) {
        var pending = new PendingRequests(config.maxPendingRequests(), config.responseTimeoutMs(), config.ingestId());
        Producer<String, ClientRequest> producer = new KafkaProducer<>(producerConfig(config, "backbone-" + config.ingestId()),
                new StringSerializer(), new EventSizeLimit(Topics.CLIENT_REQUESTS.valueSerde().serializer(), config.maxEventBytes()));
        // A client id of its own keeps the two producers' metrics apart, because the meters are tagged by client id.
        Producer<byte[], byte[]> deadLetterProducer = new KafkaProducer<>(
                producerConfig(config, "backbone-" + config.ingestId() + "-dead-letters"),
                new ByteArraySerializer(), new ByteArraySerializer());
        var deadLetters = new DeadLetterPublisher(deadLetterProducer, "request-ingest/" + config.ingestId());
        var consumer = new KafkaConsumer<>(consumerConfig(config), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        var listener = new ResponseListener(consumer, config.replyPartition(), pending, deadLetters);

        var kafkaMeters = new KafkaClientMeters(registry, config.ingestId());
        kafkaMeters.bind(producer);
        kafkaMeters.bind(deadLetterProducer);
        kafkaMeters.bind(consumer);

        Server server = new Server(threadPool());
        var frontDoor = new FrontDoor(config, server, producer, deadLetterProducer, listener, pending, kafkaMeters);
        try {
            listener.start(Duration.ofSeconds(30));
            // The JSON error handler writes the responses to requests that Jetty rejects before any handler runs (431, 414,
            // bad URIs).
            server.setErrorHandler(new JsonErrorHandler(new HttpConfiguration().getRequestHeaderSize()));
            server.addConnector(connector(server, config));
            server.setHandler(new FrontDoorHandler(config, producer, pending, registry, rateLimiter(config, registry)));
            server.start();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            frontDoor.close();
            throw new IllegalStateException("interrupted while starting the front door", e);
        } catch (IllegalStateException e) {
            // A key store that changed or went missing since the configuration was read; the message names the key.
            frontDoor.close();
            throw e;
        } catch (Exception e) {
            frontDoor.close();
            throw new IllegalStateException("cannot start the front door on " + config.httpHost() + ":" + config.httpPort()
                    + ": " + e.getMessage() + (isBindFailure(e) ? "; set http.port to a free port" : ""), e);
        }
        Gauge.builder("backbone.ingest.pending", pending, PendingRequests::size)
                .description("requests published and awaiting their answer").register(registry);
        Gauge.builder("backbone.ingest.unmatched.responses", pending, PendingRequests::unmatchedResponses)
                .description("answers that arrived after their request timed out, or twice").register(registry);
        FunctionCounter.builder("backbone.ingest.unawaited.responses", pending, PendingRequests::unawaitedResponses)
                .description("answers to requests that nobody waits for: lines of " + BatchIngest.PATH
                        + " and requests produced to Kafka by backbone load and replay").register(registry);
        log.info("Front door {} listening on {} (reply partition {} of {}, rate limit {})", config.ingestId(), frontDoor.uri(),
                config.replyPartition(), Topics.RESPONSES.name(), config.rateLimit().enabled() ? config.rateLimit() : "off");
        return frontDoor;
    }

    /** Returns the HTTP connector, or the HTTPS one when {@code tls.keystore.path} is set. */
    private static ServerConnector connector(Server server, IngestConfig config) {
        var httpConfig = new HttpConfiguration();
        httpConfig.setSendServerVersion(false);
        ServerConnector connector;
        if (config.tlsEnabled()) {
            var tls = new SslContextFactory.Server();
            tls.setKeyStore(config.tls().load());
            tls.setKeyStorePassword(config.tls().password());
            // The Host header names the site that DNS resolves (shop.example.com), not the name in the certificate, so
            // Jetty's check that the two match is off.
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

    /** Returns the rate limiter with its gauge, or null when the rate limit is off. */
    private static ClientRateLimiter rateLimiter(IngestConfig config, MeterRegistry registry) {
        if (!config.rateLimit().enabled()) {
            return null;
        }
        var limiter = new ClientRateLimiter(config.rateLimit(), System::nanoTime);
        Gauge.builder("backbone.ingest.rate.limit.clients", limiter, ClientRateLimiter::trackedClients)
                .description("clients with a rate-limit bucket, at most rate.limit.max.clients").register(registry);
        return limiter;
    }

    static Map<String, Object> producerConfig(IngestConfig config, String clientId) {
        return config.kafkaClient().applyTo(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
                ProducerConfig.CLIENT_ID_CONFIG, clientId,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 1,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, config.kafkaTimeoutMs(),
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) config.kafkaTimeoutMs(),
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) config.kafkaTimeoutMs() + 1));
    }

    static Map<String, Object> consumerConfig(IngestConfig config) {
        return config.kafkaClient().applyTo(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
                ConsumerConfig.CLIENT_ID_CONFIG, "backbone-" + config.ingestId() + "-responses",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted"));
    }

    private static QueuedThreadPool threadPool() {
        var pool = new QueuedThreadPool(200, 8);
        pool.setName("ingest-http");
        return pool;
    }

    private static boolean isBindFailure(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof java.net.BindException) {
                return true;
            }
        }
        return false;
    }

    /** Returns the base URI clients call, such as {@code http://127.0.0.1:8080/}, or {@code https://…} with TLS. */
    public URI uri() {
        var connector = (ServerConnector) server.getConnectors()[0];
        return URI.create((config.tlsEnabled() ? "https" : "http") + "://" + config.httpHost() + ":" + connector.getLocalPort() + "/");
    }

    /** Returns the bound port, useful when {@code http.port} was 0. */
    public int port() {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    /** Returns how many requests await their response right now. */
    public int pendingRequests() {
        return pending.size();
    }

    /** Stops the HTTP server (answering requests in flight first, up to the response timeout), then the Kafka clients. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.setStopTimeout(config.responseTimeoutMs());
            server.stop();
        } catch (Exception e) {
            log.warn("Front door {} did not stop cleanly: {}", config.ingestId(), e.toString());
        }
        kafkaMeters.close();
        listener.close();
        producer.close(Duration.ofSeconds(5));
        deadLetterProducer.close(Duration.ofSeconds(5));
        log.info("Front door {} stopped", config.ingestId());
    }
}
