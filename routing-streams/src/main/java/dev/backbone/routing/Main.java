package dev.backbone.routing;

import dev.backbone.events.Settings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one routing-streams instance: {@code java dev.backbone.routing.Main [routing.properties]}. Configuration comes
 * from {@code BACKBONE_*} environment variables, then the optional properties file, then defaults (see
 * {@link RoutingConfig}). Stops cleanly on SIGTERM or Ctrl-C.
 */
public final class Main {

    private static final Logger log = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) {
        Path propertiesFile = args.length > 0 ? Path.of(args[0]) : null;
        RoutingConfig config;
        try {
            config = RoutingConfig.from(Settings.load(propertiesFile, System.getenv(), Map.of()));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }

        var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        var service = RoutingService.start(config, registry);
        Runtime.getRuntime().addShutdownHook(new Thread(service::close, "routing-shutdown"));
        if (service.awaitRunning(Duration.ofMinutes(2))) {
            log.info("Routing-streams {} is running", config.applicationId());
        } else {
            log.warn("Routing-streams {} is not running after 2 minutes; state {}", config.applicationId(),
                    service.streams().state());
        }
        // Kafka Streams threads keep the JVM alive until the shutdown hook closes the service.
    }
}
