package dev.backbone.launcher;

import static org.junit.jupiter.api.Assertions.fail;

import com.github.dockerjava.api.DockerClient;
import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.launcher.cluster.BrokerOutage;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.utility.DockerImageName;

/**
 * Kafka, PostgreSQL with logical decoding and Redis in containers, started with Testcontainers for the container
 * variants of the integration tests, which run with {@code -Pcontainers}. The services reach them through the ports
 * that Docker maps on its host, which is 127.0.0.1 for a local engine. {@link #close()} removes the containers.
 */
public final class BackboneContainers implements AutoCloseable {

    /** The images of compose/docker-compose.yml, so that both run the same Kafka, PostgreSQL and Redis. */
    public static final DockerImageName KAFKA = DockerImageName.parse("apache/kafka:4.3.2");
    public static final DockerImageName POSTGRES = DockerImageName.parse("postgres:17");
    public static final DockerImageName REDIS = DockerImageName.parse("redis:7.4");

    private static final String DATABASE = "backbone";
    private static final String USER = "postgres";
    private static final String PASSWORD = "backbone";
    private static final int REDIS_PORT = 6379;
    private static final Duration KAFKA_READY_TIMEOUT = Duration.ofSeconds(60);

    private final KafkaContainer kafka;
    private final PostgreSQLContainer<?> postgres;
    private final GenericContainer<?> redis;

    private BackboneContainers() {
        kafka = new KafkaContainer(KAFKA);
        // The tests expect partitions to move within seconds of a member's death, as on the in-process broker.
        EmbeddedKafka.FAST_GROUP_SETTINGS.forEach((key, value) -> kafka.withEnv(environmentVariable(key), value));
        postgres = new PostgreSQLContainer<>(POSTGRES)
                .withDatabaseName(DATABASE).withUsername(USER).withPassword(PASSWORD)
                .withCommand("postgres", "-c", "wal_level=logical", "-c", "synchronous_commit=on", "-c", "fsync=off");
        redis = new GenericContainer<>(REDIS).withExposedPorts(REDIS_PORT);
    }

    /**
     * Returns the name of the environment variable that sets the broker config {@code key} in the apache/kafka image:
     * {@code KAFKA_} and the key in upper case with underscores for dots.
     */
    static String environmentVariable(String key) {
        if (!key.matches("[a-z0-9.]+")) {
            throw new IllegalArgumentException("broker config " + key + " has characters other than a-z, 0-9 and dots, "
                    + "which the apache/kafka image spells differently; extend environmentVariable for it");
        }
        return "KAFKA_" + key.toUpperCase(Locale.ROOT).replace('.', '_');
    }

    /**
     * Returns the message a container variant is skipped with where no Docker engine is reachable.
     *
     * @param test            the container variant
     * @param embeddedVariant the test that makes the same checks on the in-process Kafka and PostgreSQL
     */
    public static String skipMessage(Class<?> test, Class<?> embeddedVariant) {
        return "No Docker engine is reachable, so " + test.getSimpleName() + " is skipped; " + embeddedVariant.getSimpleName()
                + " runs the same checks on the in-process Kafka and PostgreSQL. Start a Docker engine to run it, or set "
                + "-Dbackbone.docker.required=true to make a missing engine fail the build.";
    }

    /**
     * Returns whether Testcontainers reaches a Docker engine. Where none is reachable, it logs {@code skipMessage} as a
     * warning and returns false, unless the system property {@code backbone.docker.required} is true: then it fails
     * the test.
     */
    public static boolean dockerAvailable(Logger log, String skipMessage) {
        if (DockerClientFactory.instance().isDockerAvailable()) {
            return true;
        }
        if (Boolean.getBoolean("backbone.docker.required")) {
            fail("backbone.docker.required is true, but no Docker engine is reachable; start one or set it to false");
        }
        log.warn(skipMessage);
        return false;
    }

    /** Starts the three containers at once and returns when each is ready. On a failure it removes them first. */
    public static BackboneContainers start() {
        var containers = new BackboneContainers();
        try {
            Startables.deepStart(containers.kafka, containers.postgres, containers.redis).join();
        } catch (RuntimeException e) {
            containers.close();
            throw e;
        }
        return containers;
    }

    /** Returns the addresses of Kafka and PostgreSQL on the Docker host, with replication factor 1 for one broker. */
    public ExternalServices services() {
        return new ExternalServices(kafka.getBootstrapServers(), (short) 1, postgres.getHost(),
                postgres.getMappedPort(PostgreSQLContainer.POSTGRESQL_PORT), DATABASE, USER, PASSWORD);
    }

    /** Returns the URI of Redis on the Docker host, such as {@code redis://localhost:32771}. */
    public String redisUri() {
        return "redis://" + redis.getHost() + ":" + redis.getMappedPort(REDIS_PORT);
    }

    /**
     * Returns a broker outage that pauses the Kafka container ({@code docker pause}) and unpauses it. A paused broker
     * keeps its connections, data and mapped port but sends no responses, so its clients time out, where a stopped
     * broker refuses their connections. The restart waits until the broker responds to an admin request.
     */
    public BrokerOutage kafkaPause() {
        DockerClient docker = DockerClientFactory.instance().client();
        String id = kafka.getContainerId();
        return BrokerOutage.of(() -> docker.pauseContainerCmd(id).exec(), () -> {
            docker.unpauseContainerCmd(id).exec();
            awaitKafka();
        });
    }

    private void awaitKafka() {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getBootstrapServers()))) {
            admin.describeCluster().nodes().get(KAFKA_READY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("Kafka in container " + kafka.getContainerId() + " did not respond within "
                    + KAFKA_READY_TIMEOUT.toSeconds() + " s after the unpause: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for Kafka after the unpause", e);
        }
    }

    /** Removes the containers, unpausing Kafka first when a test left it paused. Idempotent. */
    @Override
    public void close() {
        try {
            unpauseKafkaIfPaused();
        } finally {
            for (GenericContainer<?> container : new GenericContainer<?>[] {redis, postgres, kafka}) {
                container.stop();
            }
        }
    }

    private void unpauseKafkaIfPaused() {
        String id = kafka.getContainerId();
        if (id == null) {
            return;
        }
        DockerClient docker = DockerClientFactory.instance().client();
        if (Boolean.TRUE.equals(docker.inspectContainerCmd(id).exec().getState().getPaused())) {
            docker.unpauseContainerCmd(id).exec();
        }
    }
}
