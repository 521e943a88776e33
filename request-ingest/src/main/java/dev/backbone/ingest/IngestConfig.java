package dev.backbone.ingest;

import dev.backbone.events.PassthroughProperties;
import dev.backbone.events.Settings;
import dev.backbone.events.TlsStore;
import dev.backbone.events.Topics;

/**
 * Configuration of one front-door instance. The default {@link #toString()} is safe to log, because {@link TlsStore}
 * and {@link PassthroughProperties} mask their secrets.
 *
 * @param bootstrapServers   Kafka bootstrap servers ({@code bootstrap.servers}, required)
 * @param httpHost           address the HTTP server binds ({@code http.host}, default 127.0.0.1)
 * @param httpPort           HTTP port ({@code http.port}, default 8080; 0 picks a free port)
 * @param ingestId           this instance's id, recorded on every request ({@code ingest.id}, default {@code ingest-1})
 * @param replyPartition     the partition of {@code backbone.responses} this instance reads ({@code reply.partition},
 *                           default 0); every running instance needs its own
 * @param responseTimeoutMs  how long a client waits for its response before a 504 ({@code response.timeout.ms}, default 10000)
 * @param maxBodyBytes       largest accepted request body; larger ones get 413 ({@code max.body.bytes}, default 1 MiB)
 * @param maxPendingRequests requests awaiting an answer at once; more get 503 ({@code max.pending.requests}, default 10000)
 * @param maxEventBytes      largest request event, in bytes of JSON, that the front door publishes; a request whose
 *                           event is larger gets 413 ({@code max.event.bytes}, default {@value #DEFAULT_MAX_EVENT_BYTES},
 *                           which leaves room below Kafka's default record limit of 1 MiB for the routing layer's
 *                           envelope)
 * @param maxBatchRequests   request lines one call of {@code POST /_backbone/requests} may carry; a larger batch gets 413
 *                           and nothing of it is published ({@code batch.max.requests}, default
 *                           {@value #DEFAULT_MAX_BATCH_REQUESTS})
 * @param kafkaTimeoutMs     how long a send may wait for Kafka before the client gets 503 ({@code kafka.timeout.ms}, default 5000)
 * @param defaultRegion      region of clients that send no {@code X-Client-Region} ({@code default.region}, default us-east)
 * @param defaultCountry     country of clients that send no {@code X-Client-Country} ({@code default.country}, default US)
 * @param metricsHost        address the Prometheus endpoint of a standalone front door binds ({@code metrics.host},
 *                           default 127.0.0.1)
 * @param metricsPort        port of that endpoint, which serves {@code GET /metrics} ({@code metrics.port}, default
 *                           {@value #DEFAULT_METRICS_PORT}; 0 picks a free port, -1 turns it off). It is separate from
 *                           {@code http.port} because the front door forwards every path of that port to Kafka
 * @param rateLimit          the per-client request rate limit ({@code rate.limit.*} keys, off by default)
 * @param tls                the key store of HTTPS ({@code tls.keystore.path}, {@code tls.keystore.password},
 *                           {@code tls.keystore.type}), or null to serve plain HTTP (the default)
 * @param kafkaClient        properties passed to every Kafka client of the front door: each {@code kafka.*} key
 *                           except {@code kafka.timeout.ms}, such as {@code kafka.security.protocol}
 */
public record IngestConfig(
        String bootstrapServers,
        String httpHost,
        int httpPort,
        String ingestId,
        int replyPartition,
        long responseTimeoutMs,
        int maxBodyBytes,
        int maxPendingRequests,
        int maxEventBytes,
        int maxBatchRequests,
        long kafkaTimeoutMs,
        String defaultRegion,
        String defaultCountry,
        String metricsHost,
        int metricsPort,
        RateLimit rateLimit,
        TlsStore tls,
        PassthroughProperties kafkaClient) {

    public static final int DEFAULT_METRICS_PORT = 9401;
    public static final int DEFAULT_MAX_BATCH_REQUESTS = 10_000;
    public static final int DEFAULT_MAX_EVENT_BYTES = 1_000_000;

    /**
     * Reads and validates every key.
     *
     * @throws IllegalArgumentException listing every invalid key with its value and what is accepted
     */
    public static IngestConfig from(Settings settings) {
        var config = new IngestConfig(
                settings.requiredString("bootstrap.servers", "the Kafka bootstrap servers, such as 127.0.0.1:9092"),
                settings.string("http.host", "127.0.0.1"),
                settings.integer("http.port", 8080, 0, 65535),
                settings.string("ingest.id", "ingest-1"),
                settings.integer("reply.partition", 0, 0, Topics.RESPONSES.partitions() - 1),
                settings.longValue("response.timeout.ms", 10_000, 1, 600_000),
                settings.integer("max.body.bytes", 1024 * 1024, 0, 64 * 1024 * 1024),
                settings.integer("max.pending.requests", 10_000, 1, 1_000_000),
                settings.integer("max.event.bytes", DEFAULT_MAX_EVENT_BYTES, 1024, 64 * 1024 * 1024),
                settings.integer("batch.max.requests", DEFAULT_MAX_BATCH_REQUESTS, 1, 1_000_000),
                settings.longValue("kafka.timeout.ms", 5_000, 100, 120_000),
                settings.string("default.region", "us-east"),
                settings.string("default.country", "US"),
                settings.string("metrics.host", "127.0.0.1"),
                settings.integer("metrics.port", DEFAULT_METRICS_PORT, -1, 65535),
                RateLimit.from(settings),
                TlsStore.read(settings, TlsStore.KEY_STORE_PREFIX, TlsStore.Purpose.KEY_STORE),
                PassthroughProperties.kafka(settings));
        if (!RequestValidation.isValidRegion(config.defaultRegion())) {
            settings.addProblem("default.region=" + config.defaultRegion() + " is invalid; accepted: " + RequestValidation.REGION_RULE);
        }
        if (!RequestValidation.isValidCountry(config.defaultCountry())) {
            settings.addProblem("default.country=" + config.defaultCountry() + " is invalid; accepted: " + RequestValidation.COUNTRY_RULE);
        }
        settings.requireValid("request-ingest");
        return config;
    }

    /** Returns whether the front door serves HTTPS. */
    public boolean tlsEnabled() {
        return tls != null;
    }

    /**
     * The per-client request rate limit: a token bucket per client id that refills at {@code ratePerSecond} and holds at
     * most {@code burst} tokens. Off by default, so that {@code backbone demo}, {@code backbone load} and the benchmarks
     * are never throttled.
     *
     * @param ratePerSecond requests per second each client may send over time ({@code rate.limit.per.second}, default
     *                      {@value #OFF}: no limit); may be fractional, such as 0.5 for one request every 2 seconds
     * @param burst         requests a client may send at once after being idle ({@code rate.limit.burst}, default
     *                      {@code ratePerSecond} rounded up, at least 1)
     * @param maxClients    clients whose buckets are kept at once ({@code rate.limit.max.clients}, default
     *                      {@value #DEFAULT_MAX_CLIENTS}); beyond it Caffeine's size eviction drops buckets, and a
     *                      client whose bucket was dropped starts again with a full one
     */
    public record RateLimit(double ratePerSecond, int burst, int maxClients) {

        public static final double OFF = 0;
        public static final int DEFAULT_MAX_CLIENTS = 100_000;
        public static final double MIN_RATE_PER_SECOND = 0.001;
        public static final double MAX_RATE_PER_SECOND = 1_000_000;
        public static final int MAX_BURST = 1_000_000;

        static RateLimit from(Settings settings) {
            double rate = settings.doubleValue("rate.limit.per.second", OFF, 0, MAX_RATE_PER_SECOND);
            if (rate > OFF && rate < MIN_RATE_PER_SECOND) {
                settings.addProblem("rate.limit.per.second=" + rate + " is out of range; accepted: 0 (no limit) or a "
                        + "number from " + MIN_RATE_PER_SECOND + " to " + MAX_RATE_PER_SECOND);
                rate = OFF;
            }
            int defaultBurst = (int) Math.max(1, Math.ceil(rate));
            int burst = settings.integer("rate.limit.burst", defaultBurst, 1, MAX_BURST);
            int maxClients = settings.integer("rate.limit.max.clients", DEFAULT_MAX_CLIENTS, 1, 10_000_000);
            if (rate == OFF && settings.raw("rate.limit.burst") != null) {
                settings.addProblem("rate.limit.burst has no effect while rate.limit.per.second is 0 or not set; set "
                        + "rate.limit.per.second above 0, such as 10, or remove rate.limit.burst");
            }
            return new RateLimit(rate, burst, maxClients);
        }

        /** Returns whether requests are limited at all. */
        public boolean enabled() {
            return ratePerSecond > OFF;
        }
    }
}
