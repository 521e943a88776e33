package dev.backbone.appserver;

import dev.backbone.events.MetricsEndpoint;
import dev.backbone.events.Settings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one app server until the JVM is asked to stop (SIGTERM or Ctrl-C).
 *
 * <p>Usage: {@code app-server [CONFIG.properties]}. Keys are listed on {@link AppServerConfig}; each can also be set
 * as an environment variable, such as {@code BACKBONE_SERVER_ID} for {@code server.id}, which wins over the file.
 * Exits with status 2 when the configuration is invalid. Serves its meters, JVM meters included, at {@code /metrics} on
 * {@code metrics.port}.
 */
public final class Main {

    private static final Logger log = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length > 1) {
            System.err.println("usage: app-server [CONFIG.properties]");
            System.exit(2);
        }
        AppServerConfig config;
        try {
            Path file = args.length == 1 ? Path.of(args[0]) : null;
            config = AppServerConfig.from(Settings.load(file, System.getenv(), Map.of()));
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }

        var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        MetricsEndpoint.bindJvmMetrics(registry);
        MetricsEndpoint metrics = startMetrics(config, registry);
        AppServer server;
        try {
            server = AppServer.start(config, registry);
        } catch (RuntimeException e) {
            MetricsEndpoint.closeIfStarted(metrics);
            throw e;
        }
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("Stop requested; stopping app server {}", config.serverId());
            server.close();
            MetricsEndpoint.closeIfStarted(metrics);
            stopped.countDown();
        }, "app-server-shutdown"));
        stopped.await();
    }

    /** Starts the Prometheus endpoint on {@code metrics.host:metrics.port}, or returns null when that port is -1. */
    static MetricsEndpoint startMetrics(AppServerConfig config, PrometheusMeterRegistry registry) {
        return MetricsEndpoint.startUnlessOff(config.metricsHost(), config.metricsPort(), registry);
    }

}
