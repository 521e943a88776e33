package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Shows that {@link ComposeDriftChecker} reports each kind of drift, on small deployments written here. */
class ComposeDriftCheckerTest {

    /** A front door as compose/ runs it, with the settings that this test class varies as placeholders. */
    private static final String FRONT_DOOR = """
            services:
              request-ingest:
                command: ["java", "-cp", "/app/backbone.jar", "dev.backbone.ingest.Main"]
                ports: ["127.0.0.1:8080:8080"]
                environment:
                  BACKBONE_BOOTSTRAP_SERVERS: kafka-1:9092
                  BACKBONE_HTTP_HOST: 0.0.0.0
                  BACKBONE_METRICS_HOST: 0.0.0.0
                  BACKBONE_LOG_LEVEL: INFO
                  %s: 9401
              connect:
                image: quay.io/debezium/connect:3.6.1.Final
                environment:
                  BACKBONE_DATABASE_PASSWORD: ${POSTGRES_PASSWORD:-backbone}
            """;
    private static final String SCRAPE_9401 = """
            scrape_configs:
              - job_name: request-ingest
                static_configs:
                  - targets: ["request-ingest:9401"]
            """;
    private static final String CONNECTOR = """
            {"name": "backbone-postgres", "config": {"database.password": "${env:BACKBONE_DATABASE_PASSWORD}",
             "transforms": "route", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
             "transforms.route.replacement": "%s"}}
            """;

    private static List<String> problems(String compose, String prometheus, String connector) throws Exception {
        JsonNode connectorJson = Json.mapper().readTree(connector);
        return new ComposeDriftChecker(ComposeDriftChecker.parseYaml(compose), ComposeDriftChecker.parseYaml(prometheus),
                Map.of("debezium-postgres.json", connectorJson), Set.of("BACKBONE_LOG_LEVEL")).problems();
    }

    private static List<String> problems(String compose) throws Exception {
        return problems(compose, SCRAPE_9401, CONNECTOR.formatted("backbone.db-changes"));
    }

    @Test
    void matchingDeploymentHasNoProblems() throws Exception {
        assertThat(problems(FRONT_DOOR.formatted("BACKBONE_METRICS_PORT"))).isEmpty();
    }

    @Test
    void misspelledKeyIsReported() throws Exception {
        List<String> problems = problems(FRONT_DOOR.formatted("BACKBONE_METRICS_PROT"));

        assertThat(problems).hasSize(1);
        assertThat(problems.get(0)).startsWith("request-ingest: BACKBONE_METRICS_PROT sets metrics.prot, which "
                + "dev.backbone.ingest.Main does not read").contains("metrics.port");
    }

    @Test
    void missingRequiredKeyIsReported() throws Exception {
        String compose = FRONT_DOOR.formatted("BACKBONE_METRICS_PORT").replace("      BACKBONE_BOOTSTRAP_SERVERS: kafka-1:9092\n", "");

        assertThat(problems(compose)).contains(
                "request-ingest: dev.backbone.ingest.Main requires bootstrap.servers; set BACKBONE_BOOTSTRAP_SERVERS");
    }

    @Test
    void invalidValueIsReported() throws Exception {
        String compose = FRONT_DOOR.formatted("BACKBONE_METRICS_PORT").replace("BACKBONE_HTTP_HOST: 0.0.0.0",
                "BACKBONE_HTTP_HOST: 0.0.0.0\n      BACKBONE_REPLY_PARTITION: 99");

        assertThat(problems(compose)).singleElement().asString()
                .startsWith("request-ingest: invalid request-ingest configuration:").contains("reply.partition=99 is out of range");
    }

    @Test
    void loopbackBindIsReported() throws Exception {
        String compose = FRONT_DOOR.formatted("BACKBONE_METRICS_PORT").replace("BACKBONE_HTTP_HOST: 0.0.0.0", "BACKBONE_HTTP_HOST: 127.0.0.1");

        assertThat(problems(compose)).containsExactly(
                "request-ingest: the http port binds 127.0.0.1, which other containers cannot reach; bind 0.0.0.0");
    }

    @Test
    void unknownTopicInEnvironmentIsReported() throws Exception {
        String compose = FRONT_DOOR.formatted("BACKBONE_METRICS_PORT").replace("BACKBONE_LOG_LEVEL: INFO",
                "BACKBONE_LOG_LEVEL: INFO\n      DEAD_LETTER_TOPIC: backbone.dead-letter");

        assertThat(problems(compose)).singleElement().asString()
                .startsWith("request-ingest: DEAD_LETTER_TOPIC names topic backbone.dead-letter, which is not in Topics");
    }

    @Test
    void connectorRoutingToUnknownTopicIsReported() throws Exception {
        List<String> problems = problems(FRONT_DOOR.formatted("BACKBONE_METRICS_PORT"), SCRAPE_9401,
                CONNECTOR.formatted("backbone.db-change"));

        assertThat(problems).anyMatch(p -> p.startsWith("connect/debezium-postgres.json: transforms.route.replacement "
                + "routes to backbone.db-change, which is not a topic in Topics"));
        assertThat(problems).anyMatch(p -> p.startsWith("connect/debezium-postgres.json: transforms.route.replacement "
                + "names topic backbone.db-change"));
    }

    @Test
    void unreadWorkerVariableIsReported() throws Exception {
        String connector = "{\"name\": \"backbone-postgres\", \"config\": {\"database.password\": \"secret\"}}";

        assertThat(problems(FRONT_DOOR.formatted("BACKBONE_METRICS_PORT"), SCRAPE_9401, connector)).containsExactly(
                "a service that runs no Backbone main class sets BACKBONE_DATABASE_PASSWORD, which no connector "
                        + "configuration reads as ${env:BACKBONE_DATABASE_PASSWORD}");
    }

    @Test
    void scrapeTargetOnWrongPortIsReported() throws Exception {
        List<String> problems = problems(FRONT_DOOR.formatted("BACKBONE_METRICS_PORT"),
                SCRAPE_9401.replace("request-ingest:9401", "request-ingest:8080"), CONNECTOR.formatted("backbone.db-changes"));

        assertThat(problems).containsExactly(
                "prometheus job request-ingest: target request-ingest:8080 is not the metrics port of request-ingest; "
                        + "it serves metrics on 9401",
                "request-ingest: serves metrics on port 9401, but prometheus.yml does not scrape request-ingest:9401");
    }

    @Test
    void interpolationWithoutDefaultIsReported() throws Exception {
        String compose = FRONT_DOOR.formatted("BACKBONE_METRICS_PORT").replace("${POSTGRES_PASSWORD:-backbone}", "${POSTGRES_PASSWORD}");

        assertThat(problems(compose)).singleElement().asString()
                .startsWith("connect: BACKBONE_DATABASE_PASSWORD uses ${POSTGRES_PASSWORD} without a default");
    }

    @Test
    void unpublishedListenerPortIsReported() throws Exception {
        String compose = FRONT_DOOR.formatted("BACKBONE_METRICS_PORT").replace("127.0.0.1:8080:8080", "127.0.0.1:8080:8088");

        assertThat(problems(compose)).singleElement().asString()
                .startsWith("request-ingest: publishes container port 8088, on which it does not listen");
    }
}
