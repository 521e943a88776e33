package dev.backbone.cdn;

import dev.backbone.events.Settings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs one edge alone: {@code java dev.backbone.cdn.Main [config.properties]}, with settings also from
 * {@code BACKBONE_*} environment variables. It stops on SIGTERM or Ctrl-C and exits with status 2 on an invalid
 * configuration.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        Settings settings = Settings.load(args.length > 0 ? Path.of(args[0]) : null, System.getenv(), Map.of());
        EdgeConfig config;
        try {
            config = EdgeConfig.from(settings);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        CdnEdge edge = CdnEdge.start(config, registry);
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            edge.close();
            stopped.countDown();
        }, "cdn-edge-shutdown"));
        stopped.await();
    }
}
