package dev.backbone.invalidator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import dev.backbone.events.Topics;
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the Debezium embedded engine on PostgreSQL (pgoutput) and writes every change event to
 * {@code backbone.db-changes} as JSON text without the schema wrapper, keyed {@code schema.table:primary key}.
 * A batch is marked processed only after Kafka acknowledged all of its records, so Debezium's stored offset never
 * passes a change that is not in Kafka: a restart may repeat changes but loses none.
 *
 * <p>The engine starts with {@code snapshot.mode=no_data}: it records the table schemas and streams the changes
 * committed after its replication slot was created, without replaying existing rows. Caches are filled from the
 * database with row versions, so existing rows need no invalidation, and replaying a seed of thousands of rows would
 * only flush every cache and purge the CDN once per row. The slot keeps the changes committed while the process is
 * down, so a restart with the same slot resumes where it stopped.
 *
 * <p>Thread-safe. {@link #close()} stops the engine, and the caller closes the producer.
 */
final class DebeziumCapture implements AutoCloseable {

    static final String ENGINE_NAME = "backbone-cache-invalidator";

    /** Debezium's topic prefix. Event destinations are {@code PREFIX.schema.table} and never become Kafka topics. */
    private static final String TOPIC_PREFIX = "backbone-cdc";
    private static final String MESSAGE_DESTINATION = TOPIC_PREFIX + ".message";
    /** Prefix of the logical decoding messages that {@link #awaitCapturing(Duration)} writes as probes. */
    static final String PROBE_PREFIX = "backbone.invalidator.probe";
    /** pgoutput forwards logical decoding messages from PostgreSQL 14 on. */
    private static final int MESSAGES_MIN_SERVER_VERSION = 140_000;
    private static final Duration PROBE_RETRY_INTERVAL = Duration.ofSeconds(1);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(DebeziumCapture.class);

    private final CacheInvalidatorConfig config;
    private final Producer<String, String> producer;
    private final InvalidatorMetrics metrics;
    private final ExecutorService executor;
    private final CompletableFuture<Void> tasksStarted = new CompletableFuture<>();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private final Object probeLock = new Object();
    private final DebeziumEngine<ChangeEvent<String, String>> engine;
    private String probeToken;
    private CompletableFuture<Void> probeSeen = new CompletableFuture<>();
    private volatile boolean capturing;
    private volatile boolean closing;
    private boolean closed;

    private DebeziumCapture(CacheInvalidatorConfig config, Producer<String, String> producer, InvalidatorMetrics metrics) {
        this.config = config;
        this.producer = producer;
        this.metrics = metrics;
        this.executor = Executors.newSingleThreadExecutor(runnable -> new Thread(runnable, "cache-invalidator-debezium"));
        this.engine = DebeziumEngine.create(io.debezium.engine.format.Json.class)
                .using(engineProperties(config))
                .using(new DebeziumEngine.ConnectorCallback() {
                    @Override
                    public void taskStarted() {
                        log.info("Debezium task started on slot {}", config.slotName());
                        tasksStarted.complete(null);
                    }
                })
                .using(this::engineStopped)
                .notifying(this::handleBatch)
                .build();
    }

    /**
     * Starts the engine on a thread of its own and returns at once. {@link #awaitCapturing(Duration)} waits for it.
     *
     * @throws IllegalStateException when the directory of the offset file cannot be created
     */
    static DebeziumCapture start(CacheInvalidatorConfig config, Producer<String, String> producer, InvalidatorMetrics metrics) {
        try {
            Files.createDirectories(config.offsetStorageFile().toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new IllegalStateException("cannot create the directory of offset.storage.file="
                    + config.offsetStorageFile() + ": " + e.getMessage(), e);
        }
        var capture = new DebeziumCapture(config, producer, metrics);
        capture.executor.execute(capture.engine);
        log.info("Debezium engine starting on {} (slot {}, publication {}, tables {}, offsets in {})",
                config.jdbcUrl(), config.slotName(), config.publicationName(), config.tableIncludeList(),
                config.offsetStorageFile());
        return capture;
    }

    static Properties engineProperties(CacheInvalidatorConfig config) {
        var props = new Properties();
        props.setProperty("name", ENGINE_NAME);
        props.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        props.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
        props.setProperty("offset.storage.file.filename", config.offsetStorageFile().toString());
        props.setProperty("offset.flush.interval.ms", Long.toString(config.offsetFlushIntervalMs()));
        props.setProperty("topic.prefix", TOPIC_PREFIX);
        props.setProperty("database.hostname", config.databaseHostname());
        props.setProperty("database.port", Integer.toString(config.databasePort()));
        props.setProperty("database.dbname", config.databaseName());
        props.setProperty("database.user", config.databaseUser());
        props.setProperty("database.password", config.databasePassword());
        props.setProperty("plugin.name", "pgoutput");
        props.setProperty("slot.name", config.slotName());
        props.setProperty("publication.name", config.publicationName());
        // filtered: the publication lists only the included tables, and a non-superuser owning them may create it.
        props.setProperty("publication.autocreate.mode", "filtered");
        // Debezium reads the include list as regular expressions over schema.table, so the dots are escaped.
        props.setProperty("table.include.list", config.tableIncludeList().stream()
                .map(table -> table.replace(".", "\\.")).collect(Collectors.joining(",")));
        props.setProperty("snapshot.mode", "no_data");
        props.setProperty("poll.interval.ms", Long.toString(config.pollIntervalMs()));
        // A tombstone after each delete only serves log compaction, and backbone.db-changes is not compacted. It can be
        // turned on to match Kafka Connect's default; processing ignores tombstones.
        props.setProperty("tombstones.on.delete", Boolean.toString(config.tombstonesOnDelete()));
        // NUMERIC columns as text ("12.50") rather than base64 of the unscaled bytes, so events stay readable and a
        // NUMERIC key column maps to a readable cache key. Kafka Connect's connector configuration sets the same.
        props.setProperty("decimal.handling.mode", "string");
        props.setProperty("message.prefix.include.list", PROBE_PREFIX.replace(".", "\\."));
        props.setProperty("converter.schemas.enable", "false");
        return config.debezium().applyTo(props);
    }

    /**
     * Waits until changes committed from now on are captured: the task has started, and a logical decoding message
     * written after that came through the engine, which proves the slot, the publication and streaming all work.
     * Each probe is a transactional {@code pg_logical_emit_message} and touches no table. On PostgreSQL before 14,
     * which pgoutput does not forward messages from, or when the probe cannot be written, the task start alone counts.
     *
     * @return true when capturing, false when the timeout passed or the engine stopped first
     * @throws InterruptedException when interrupted while waiting
     */
    boolean awaitCapturing(Duration timeout) throws InterruptedException {
        if (capturing) {
            return true;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean started = awaitFuture(CompletableFuture.anyOf(tasksStarted, terminated), deadline);
        if (!started || !tasksStarted.isDone() || tasksStarted.isCompletedExceptionally()) {
            return false;
        }
        try (Connection connection = DriverManager.getConnection(config.jdbcUrl(), connectionProperties(config))) {
            warnAboutReplicaIdentity(connection);
            if (serverVersion(connection) < MESSAGES_MIN_SERVER_VERSION) {
                log.info("PostgreSQL before 14 sends no logical decoding messages through pgoutput, so the task start counts as capturing");
                capturing = true;
                return true;
            }
            while (System.nanoTime() < deadline && !terminated.isDone()) {
                CompletableFuture<Void> seen = emitProbe(connection);
                long attemptDeadline = Math.min(deadline, System.nanoTime() + PROBE_RETRY_INTERVAL.toNanos());
                if (awaitFuture(CompletableFuture.anyOf(seen, terminated), attemptDeadline) && seen.isDone()) {
                    capturing = true;
                    log.info("Capturing changes: the probe message came through slot {}", config.slotName());
                    return true;
                }
            }
            return false;
        } catch (SQLException e) {
            log.warn("Cannot write a probe message to {} ({}), so the task start counts as capturing and changes committed "
                    + "right now may be missed. Let {} execute pg_logical_emit_message to confirm capture",
                    config.jdbcUrl(), e.getMessage(), config.databaseUser());
            capturing = true;
            return true;
        }
    }

    /** Returns the properties of the invalidator's own JDBC connection, with the TLS settings that Debezium gets. */
    static Properties connectionProperties(CacheInvalidatorConfig config) {
        var props = new Properties();
        props.setProperty("user", config.databaseUser());
        if (!config.databasePassword().isEmpty()) {
            props.setProperty("password", config.databasePassword());
        }
        // Debezium's database.sslmode, database.sslrootcert and the like are PgJDBC's sslmode, sslrootcert, ...
        config.debezium().properties().forEach((name, value) -> {
            if (name.startsWith("database.ssl")) {
                props.setProperty(name.substring("database.".length()), value);
            }
        });
        return props;
    }

    /**
     * Warns about captured tables whose changes lack what the mapping needs: products without {@code REPLICA IDENTITY
     * FULL} hide the old category of a moved or deleted product, and any table with {@code REPLICA IDENTITY NOTHING}
     * hides the key of updated and deleted rows.
     */
    private void warnAboutReplicaIdentity(Connection connection) {
        String sql = "SELECT n.nspname || '.' || c.relname, c.relreplident FROM pg_class c"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE c.relkind IN ('r', 'p') AND n.nspname || '.' || c.relname = ANY (?)";
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setArray(1, connection.createArrayOf("text", config.tableIncludeList().toArray()));
            try (ResultSet result = statement.executeQuery()) {
                while (result.next()) {
                    String table = result.getString(1);
                    String identity = result.getString(2);
                    if (identity.equals("n")) {
                        log.warn("Table {} has REPLICA IDENTITY NOTHING, so its updates and deletes carry no key and cannot be "
                                + "invalidated; run ALTER TABLE {} REPLICA IDENTITY FULL", table, table);
                    } else if (table.equals("public." + InvalidationMapper.PRODUCTS) && !identity.equals("f")) {
                        log.warn("Table {} lacks REPLICA IDENTITY FULL, so moving or deleting a product does not invalidate "
                                + "its old category; run ALTER TABLE {} REPLICA IDENTITY FULL", table, table);
                    }
                }
            }
        } catch (SQLException e) {
            log.warn("Cannot check the replica identity of the captured tables: {}", e.getMessage());
        }
    }

    private static int serverVersion(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement("SHOW server_version_num");
             ResultSet result = statement.executeQuery()) {
            result.next();
            return Integer.parseInt(result.getString(1));
        }
    }

    private CompletableFuture<Void> emitProbe(Connection connection) throws SQLException {
        CompletableFuture<Void> seen;
        String token;
        synchronized (probeLock) {
            if (probeToken == null) {
                probeToken = UUID.randomUUID().toString();
            }
            token = probeToken;
            seen = probeSeen;
        }
        try (PreparedStatement statement = connection.prepareStatement("SELECT pg_logical_emit_message(true, ?, ?)")) {
            statement.setString(1, PROBE_PREFIX);
            statement.setString(2, token);
            statement.execute();
        }
        return seen;
    }

    private static boolean awaitFuture(CompletableFuture<?> future, long deadlineNanos) throws InterruptedException {
        long remaining = deadlineNanos - System.nanoTime();
        if (remaining <= 0) {
            return future.isDone();
        }
        try {
            future.get(remaining, TimeUnit.NANOSECONDS);
            return true;
        } catch (ExecutionException e) {
            return true;
        } catch (TimeoutException e) {
            return false;
        }
    }

    /** Returns a future that completes when the engine stops: normally after {@link #close()}, exceptionally on an error. */
    CompletableFuture<Void> terminated() {
        return terminated;
    }

    private void handleBatch(List<ChangeEvent<String, String>> events, DebeziumEngine.RecordCommitter<ChangeEvent<String, String>> committer)
            throws InterruptedException {
        List<Future<RecordMetadata>> sends = new ArrayList<>(events.size());
        for (ChangeEvent<String, String> event : events) {
            if (MESSAGE_DESTINATION.equals(event.destination())) {
                checkProbe(event.value());
                continue;
            }
            String table = qualifiedTable(event.destination());
            if (event.value() == null && !config.tombstonesOnDelete()) {
                continue;
            }
            sends.add(producer.send(new ProducerRecord<>(Topics.DB_CHANGES.name(), recordKey(table, event.key()), event.value())));
            metrics.captured(table);
        }
        for (Future<RecordMetadata> send : sends) {
            try {
                send.get();
            } catch (ExecutionException e) {
                // The producer retried until delivery.timeout.ms. Nothing of this batch is marked processed, so the
                // engine stops and a restart captures the batch again.
                throw new IllegalStateException("Kafka did not acknowledge a change event on "
                        + Topics.DB_CHANGES.name() + ": " + e.getCause(), e.getCause());
            }
        }
        for (ChangeEvent<String, String> event : events) {
            committer.markProcessed(event);
        }
        committer.markBatchFinished();
    }

    private static String qualifiedTable(String destination) {
        return destination.startsWith(TOPIC_PREFIX + ".") ? destination.substring(TOPIC_PREFIX.length() + 1) : destination;
    }

    /** Returns {@code schema.table:primary key}, or {@code schema.table} alone for a table without a primary key. */
    static String recordKey(String qualifiedTable, String debeziumKey) {
        if (debeziumKey == null) {
            return qualifiedTable;
        }
        try {
            JsonNode key = Json.mapper().readTree(debeziumKey);
            if (key != null && key.isObject() && key.has("schema") && key.has("payload")) {
                key = key.get("payload");
            }
            String primaryKey = key != null && key.isObject() ? ChangeEventParser.joinValues(key) : null;
            return primaryKey == null ? qualifiedTable : qualifiedTable + ":" + primaryKey;
        } catch (JsonProcessingException e) {
            return qualifiedTable;
        }
    }

    private void checkProbe(String value) {
        String content;
        try {
            JsonNode message = Json.mapper().readTree(value).path("message");
            if (!PROBE_PREFIX.equals(message.path("prefix").asText())) {
                return;
            }
            content = new String(Base64.getDecoder().decode(message.path("content").asText()), StandardCharsets.UTF_8);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            log.debug("Ignoring an unreadable logical decoding message: {}", e.toString());
            return;
        }
        synchronized (probeLock) {
            if (content.equals(probeToken)) {
                probeSeen.complete(null);
            }
        }
    }

    private void engineStopped(boolean success, String message, Throwable error) {
        if (success && closing) {
            log.info("Debezium engine stopped");
            terminated.complete(null);
            return;
        }
        var failure = error != null ? error : new IllegalStateException("Debezium engine stopped unexpectedly: " + message);
        log.error("Debezium engine stopped: {}", message, error);
        tasksStarted.completeExceptionally(failure);
        terminated.completeExceptionally(failure);
    }

    /**
     * Stops the engine, which flushes the offsets of every change already in Kafka, and waits up to 30 seconds for it.
     * Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closing = true;
        try {
            // The engine rejects close() while its task is starting, so wait for the start to finish or fail first.
            awaitFuture(CompletableFuture.anyOf(tasksStarted, terminated), System.nanoTime() + STOP_TIMEOUT.toNanos());
            if (!terminated.isDone()) {
                engine.close();
            }
            awaitFuture(terminated, System.nanoTime() + STOP_TIMEOUT.toNanos());
        } catch (IOException | IllegalStateException e) {
            log.warn("Cannot stop the Debezium engine cleanly: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            executor.shutdownNow();
        }
    }
}
