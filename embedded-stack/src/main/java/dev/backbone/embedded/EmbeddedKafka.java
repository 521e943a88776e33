package dev.backbone.embedded;

import dev.backbone.events.TopicAdmin;
import dev.backbone.events.Topics;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node KRaft Kafka broker (combined broker and controller) running in this JVM.
 * Every listener binds to 127.0.0.1 on a free port; the log directory is temporary and deleted by {@link #close()}.
 * Not thread-safe for start and close; the broker itself serves any number of clients.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final int NODE_ID = 1;

    /**
     * Broker settings for quick consumer-group changes, which the local tests rely on. A local broker has no reason to
     * delay the first join of every group by the default 3 s. Groups of the KIP-848 consumer protocol move partitions
     * at member heartbeats, every 5 s by default, and declare a member dead after 45 s. With these settings they hand
     * partitions over within about a second and drop a killed member after 6 s. A broker outside this JVM that runs
     * the same tests needs them as well.
     */
    public static final Map<String, String> FAST_GROUP_SETTINGS = Map.of(
            "group.initial.rebalance.delay.ms", "0",
            "group.consumer.min.heartbeat.interval.ms", "500",
            "group.consumer.heartbeat.interval.ms", "500",
            "group.consumer.min.session.timeout.ms", "3000",
            "group.consumer.session.timeout.ms", "6000");

    private final Path logDir;
    private final int brokerPort;
    private final KafkaConfig config;
    private KafkaRaftServer server;
    private boolean closed;

    private EmbeddedKafka(Path logDir, int brokerPort, KafkaConfig config, KafkaRaftServer server) {
        this.logDir = logDir;
        this.brokerPort = brokerPort;
        this.config = config;
        this.server = server;
    }

    /** Formats a fresh log directory, starts the broker and waits until it accepts admin requests. */
    public static EmbeddedKafka start() {
        return start(Map.of());
    }

    /**
     * Starts a broker with extra broker configs layered over the defaults.
     *
     * @throws IllegalStateException when the broker cannot be formatted or started
     */
    public static EmbeddedKafka start(Map<String, String> overrides) {
        long startedAt = System.nanoTime();
        Path logDir;
        try {
            logDir = Files.createTempDirectory("backbone-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary Kafka log directory", e);
        }
        int brokerPort = FreePorts.next();
        int controllerPort = FreePorts.next();
        Properties props = brokerProperties(logDir, brokerPort, controllerPort);
        props.putAll(overrides);
        KafkaConfig config = new KafkaConfig(props, false);
        String clusterId = Uuid.randomUuid().toString();
        format(logDir, clusterId);

        var server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        var kafka = new EmbeddedKafka(logDir, brokerPort, config, server);
        kafka.awaitReady();
        log.info("Embedded Kafka ready at {} in {} ms (log dir {})", kafka.bootstrapServers(),
                (System.nanoTime() - startedAt) / 1_000_000, logDir);
        return kafka;
    }

    private static Properties brokerProperties(Path logDir, int brokerPort, int controllerPort) {
        var props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", String.valueOf(NODE_ID));
        props.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        props.put("controller.listener.names", "CONTROLLER");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        props.put("log.dirs", logDir.toString());
        props.put("num.partitions", "1");
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "5");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.putAll(FAST_GROUP_SETTINGS);
        props.put("auto.create.topics.enable", "false");
        props.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
        props.put("log.cleaner.dedupe.buffer.size", String.valueOf(8 * 1024 * 1024));
        return props;
    }

    private static void format(Path logDir, String clusterId) {
        try {
            new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                    .setClusterId(clusterId)
                    .setNodeId(NODE_ID)
                    .setControllerListenerName("CONTROLLER")
                    .setMetadataLogDirectory(logDir.toString())
                    .setDirectories(List.of(logDir.toString()))
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    .run();
        } catch (Exception e) {
            throw new IllegalStateException("cannot format the Kafka log directory " + logDir + ": " + e.getMessage(), e);
        }
    }

    private void awaitReady() {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            admin.describeCluster().nodes().get(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            close();
            throw new IllegalStateException("embedded Kafka did not become ready at " + bootstrapServers() + ": " + e.getMessage(), e);
        }
    }

    /** Returns {@code 127.0.0.1:PORT}, the value for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return "127.0.0.1:" + brokerPort;
    }

    /** Creates every Backbone topic with replication factor 1. */
    public void createBackboneTopics() {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()))) {
            TopicAdmin.ensureTopics(admin, Topics.all(), (short) 1);
        }
    }

    /**
     * Stops the broker and keeps its log directory, so that {@link #restart()} brings it back with every topic and
     * committed offset, on the same port. Clients see the broker as down meanwhile. Does nothing when stopped.
     */
    public synchronized void stop() {
        if (closed || server == null) {
            return;
        }
        long startedAt = System.nanoTime();
        server.shutdown();
        server.awaitShutdown();
        server = null;
        log.info("Embedded Kafka at 127.0.0.1:{} stopped for a restart in {} ms", brokerPort, (System.nanoTime() - startedAt) / 1_000_000);
    }

    /**
     * Starts a broker stopped by {@link #stop()} again on the same port and log directory, and waits until it accepts
     * admin requests. Does nothing when it runs.
     *
     * @throws IllegalStateException when closed, or when the broker does not come back
     */
    public synchronized void restart() {
        if (closed) {
            throw new IllegalStateException("embedded Kafka at " + bootstrapServers() + " is closed");
        }
        if (server != null) {
            return;
        }
        long startedAt = System.nanoTime();
        server = new KafkaRaftServer(config, Time.SYSTEM);
        server.startup();
        awaitReady();
        log.info("Embedded Kafka restarted at {} in {} ms", bootstrapServers(), (System.nanoTime() - startedAt) / 1_000_000);
    }

    /** Stops the broker and deletes its log directory. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        long startedAt = System.nanoTime();
        try {
            if (server != null) {
                server.shutdown();
                server.awaitShutdown();
            }
        } finally {
            TempDirs.deleteRecursively(logDir);
        }
        log.info("Embedded Kafka at 127.0.0.1:{} stopped in {} ms", brokerPort, (System.nanoTime() - startedAt) / 1_000_000);
    }
}
