package dev.backbone.ingest;

import dev.backbone.events.MetricsEndpoint;
import dev.backbone.events.Settings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs one front door alone: {@code java dev.backbone.ingest.Main [config.properties]}, settings also from BACKBONE_*
 * variables. Serves its meters, JVM meters included, at {@code /metrics} on {@code metrics.port}.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        Settings settings = Settings.load(args.length > 0 ? Path.of(args[0]) : null, System.getenv(), Map.of());
        IngestConfig config;
        try {
            config = IngestConfig.from(settings);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MetricsEndpoint.bindJvmMetrics(registry);
        MetricsEndpoint metrics = startMetrics(config, registry);
        FrontDoor frontDoor;
        try {
            frontDoor = FrontDoor.start(config, registry);
        } catch (RuntimeException e) {
            MetricsEndpoint.closeIfStarted(metrics);
            throw e;
        }
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            frontDoor.close();
            MetricsEndpoint.closeIfStarted(metrics);
            stopped.countDown();
        }, "ingest-shutdown"));
        stopped.await();
    }

    /** Starts the Prometheus endpoint on {@code metrics.host:metrics.port}, or returns null when that port is -1. */
    static MetricsEndpoint startMetrics(IngestConfig config, PrometheusMeterRegistry registry) {
        return MetricsEndpoint.startUnlessOff(config.metricsHost(), config.metricsPort(), registry);
    }

}
