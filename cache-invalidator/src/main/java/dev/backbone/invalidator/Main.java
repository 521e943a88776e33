package dev.backbone.invalidator;

import dev.backbone.events.MetricsEndpoint;
import dev.backbone.events.Settings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the cache invalidator alone: {@code java dev.backbone.invalidator.Main [config.properties]}, with settings also
 * from {@code BACKBONE_*} environment variables. It stops on SIGTERM or Ctrl-C and exits with status 1 when capture or
 * processing fails, and with status 2 on an invalid configuration. Serves its meters, JVM meters included, at
 * {@code /metrics} on {@code metrics.port}.
 */
public final class Main {

    private static final Logger log = LoggerFactory.getLogger(Main.class);
    private static final Duration CAPTURE_START_TIMEOUT = Duration.ofMinutes(2);

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        Settings settings = Settings.load(args.length > 0 ? Path.of(args[0]) : null, System.getenv(), Map.of());
        CacheInvalidatorConfig config;
        try {
            config = CacheInvalidatorConfig.from(settings);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }

        var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MetricsEndpoint.bindJvmMetrics(registry);
        MetricsEndpoint metrics = startMetrics(config, registry);
        CacheInvalidator invalidator;
        try {
            invalidator = CacheInvalidator.start(config, registry);
        } catch (RuntimeException e) {
            MetricsEndpoint.closeIfStarted(metrics);
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            invalidator.close();
            MetricsEndpoint.closeIfStarted(metrics);
        }, "cache-invalidator-shutdown"));
        if (invalidator.awaitCapturing(CAPTURE_START_TIMEOUT)) {
            log.info("Cache invalidator ready");
        } else {
            log.warn("Capture did not confirm its start within {} s; check the database connection settings and the log above",
                    CAPTURE_START_TIMEOUT.toSeconds());
        }

        try {
            invalidator.terminated().join();
        } catch (CompletionException e) {
            log.error("Cache invalidator failed; exiting", e.getCause());
            invalidator.close();
            MetricsEndpoint.closeIfStarted(metrics);
            System.exit(1);
        }
    }

    /** Starts the Prometheus endpoint on {@code metrics.host:metrics.port}, or returns null when that port is -1. */
    static MetricsEndpoint startMetrics(CacheInvalidatorConfig config, PrometheusMeterRegistry registry) {
        return MetricsEndpoint.startUnlessOff(config.metricsHost(), config.metricsPort(), registry);
    }

}
