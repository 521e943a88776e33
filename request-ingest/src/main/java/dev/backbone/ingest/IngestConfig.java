package dev.backbone.ingest;

import dev.backbone.events.Settings;
import dev.backbone.events.Topics;

/**
 * Configuration of one front-door instance.
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
 * @param kafkaTimeoutMs     how long a send may wait for Kafka before the client gets 503 ({@code kafka.timeout.ms}, default 5000)
 * @param defaultRegion      region of clients that send no {@code X-Client-Region} ({@code default.region}, default us-east)
 * @param defaultCountry     country of clients that send no {@code X-Client-Country} ({@code default.country}, default US)
 * @param metricsHost        address the Prometheus endpoint of a standalone front door binds ({@code metrics.host},
 *                           default 127.0.0.1)
 * @param metricsPort        port of that endpoint, which serves {@code GET /metrics} ({@code metrics.port}, default
 *                           {@value #DEFAULT_METRICS_PORT}; 0 picks a free port, -1 turns it off). It is separate from
 *                           {@code http.port} because the front door forwards every path of that port to Kafka
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
        long kafkaTimeoutMs,
        String defaultRegion,
        String defaultCountry,
        String metricsHost,
        int metricsPort) {

    public static final int DEFAULT_METRICS_PORT = 9401;

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
                settings.longValue("kafka.timeout.ms", 5_000, 100, 120_000),
                settings.string("default.region", "us-east"),
                settings.string("default.country", "US"),
                settings.string("metrics.host", "127.0.0.1"),
                settings.integer("metrics.port", DEFAULT_METRICS_PORT, -1, 65535));
        if (!RequestValidation.isValidRegion(config.defaultRegion())) {
            settings.addProblem("default.region=" + config.defaultRegion() + " is invalid; accepted: " + RequestValidation.REGION_RULE);
        }
        if (!RequestValidation.isValidCountry(config.defaultCountry())) {
            settings.addProblem("default.country=" + config.defaultCountry() + " is invalid; accepted: " + RequestValidation.COUNTRY_RULE);
        }
        settings.requireValid("request-ingest");
        return config;
    }
}
