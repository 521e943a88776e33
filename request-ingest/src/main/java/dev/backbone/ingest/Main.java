package dev.backbone.ingest;

import dev.backbone.events.Settings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/** Runs one front door alone: {@code java dev.backbone.ingest.Main [config.properties]}, settings also from BACKBONE_* variables. */
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
        FrontDoor frontDoor = FrontDoor.start(config, registry);
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            frontDoor.close();
            stopped.countDown();
        }, "ingest-shutdown"));
        stopped.await();
    }
}
