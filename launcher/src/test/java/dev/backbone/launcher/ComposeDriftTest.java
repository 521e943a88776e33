package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.appserver.AppServerConfig;
import dev.backbone.cdn.EdgeConfig;
import dev.backbone.ingest.IngestConfig;
import dev.backbone.invalidator.CacheInvalidatorConfig;
import dev.backbone.routing.RoutingConfig;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Checks compose/ against the code, without Docker: see {@link ComposeDriftChecker} for what is compared. */
class ComposeDriftTest {

    private static Path composeDir() {
        return Path.of(System.getProperty("backbone.compose.dir", "../compose"));
    }

    @Test
    void composeFilesMatchCode() {
        var checker = ComposeDriftChecker.load(composeDir());

        assertThat(checker.problems()).isEmpty();
    }

    @Test
    void composeRunsEveryService() {
        var checker = ComposeDriftChecker.load(composeDir());
        checker.problems();

        Map<String, List<String>> servicesByMain = checker.javaServices().values().stream()
                .collect(Collectors.groupingBy(service -> service.kind().mainClass(), java.util.TreeMap::new,
                        Collectors.mapping(ComposeDriftChecker.JavaService::name, Collectors.toList())));
        assertThat(servicesByMain).containsOnly(
                Map.entry("dev.backbone.routing.Main", List.of("routing-streams-1", "routing-streams-2")),
                Map.entry("dev.backbone.appserver.Main", List.of("app-server-1", "app-server-2", "app-server-3")),
                Map.entry("dev.backbone.invalidator.Main", List.of("cache-invalidator")),
                Map.entry("dev.backbone.cdn.Main", List.of("cdn-edge-us-east", "cdn-edge-eu-west")),
                Map.entry("dev.backbone.ingest.Main", List.of("request-ingest")),
                Map.entry(ClusterSetup.class.getName(), List.of("cluster-setup")));
    }

    @Test
    void everyMainClassHasMainMethod() throws Exception {
        for (var service : ComposeDriftChecker.yamlServices(composeDir()).entrySet()) {
            String mainClass = ComposeDriftChecker.mainClass(service.getValue());
            if (mainClass == null) {
                continue;
            }
            Method main = Class.forName(mainClass).getMethod("main", String[].class);
            assertThat(Modifier.isStatic(main.getModifiers())).as("%s: %s.main is static", service.getKey(), mainClass).isTrue();
        }
    }

    @Test
    void topicsGetReplicationFactorThree() {
        var checker = ComposeDriftChecker.load(composeDir());
        checker.problems();

        for (var service : checker.javaServices().values()) {
            Object config = service.config();
            Short factor = null;
            if (config instanceof RoutingConfig routing) {
                factor = routing.topicReplicationFactor();
            } else if (config instanceof CacheInvalidatorConfig invalidator) {
                factor = invalidator.topicReplicationFactor();
            } else if (config instanceof EdgeConfig edge) {
                factor = edge.topicReplicationFactor();
            } else if (config instanceof ClusterSetupConfig setup) {
                factor = setup.topicReplicationFactor();
            } else {
                // The app server and the front door create no topics.
                assertThat(config).isInstanceOfAny(AppServerConfig.class, IngestConfig.class);
            }
            if (factor != null) {
                assertThat(factor).as("%s topics.replication.factor", service.name()).isEqualTo((short) 3);
            }
        }
    }

    @Test
    void brokersReplicateThreeWays() {
        Map<String, Map<String, Object>> services = ComposeDriftChecker.yamlServices(composeDir());
        List<String> brokers = services.keySet().stream().filter(name -> name.startsWith("kafka-")).sorted().toList();

        assertThat(brokers).containsExactly("kafka-1", "kafka-2", "kafka-3");
        for (String broker : brokers) {
            @SuppressWarnings("unchecked")
            Map<String, Object> environment = (Map<String, Object>) services.get(broker).get("environment");
            assertThat(String.valueOf(services.get(broker).get("image"))).as(broker).startsWith("apache/kafka:4.3.");
            assertThat(environment.get("KAFKA_PROCESS_ROLES")).as(broker).isEqualTo("broker,controller");
            assertThat(environment.get("KAFKA_DEFAULT_REPLICATION_FACTOR")).as(broker).isEqualTo(3);
            assertThat(environment.get("KAFKA_MIN_INSYNC_REPLICAS")).as(broker).isEqualTo(2);
            assertThat(environment.get("KAFKA_CONTROLLER_QUORUM_VOTERS")).as(broker)
                    .isEqualTo("1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093");
        }
    }

    @Test
    void postgresDecodesLogically() {
        Map<String, Object> postgres = ComposeDriftChecker.yamlServices(composeDir()).get("postgres");

        assertThat(postgres).isNotNull();
        assertThat(String.valueOf(postgres.get("command"))).contains("wal_level=logical");
    }
}
