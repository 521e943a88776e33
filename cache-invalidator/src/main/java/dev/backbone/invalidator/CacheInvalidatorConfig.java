package dev.backbone.invalidator;

import dev.backbone.events.PassthroughProperties;
import dev.backbone.events.Settings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Configuration of the cache invalidator. {@link #toString()} masks the database password and secret passthrough values.
 *
 * @param bootstrapServers      Kafka bootstrap servers ({@code bootstrap.servers}, required)
 * @param databaseHostname      PostgreSQL host ({@code database.hostname}, default 127.0.0.1)
 * @param databasePort          PostgreSQL port ({@code database.port}, default 5432)
 * @param databaseName          database to capture ({@code database.dbname}, default {@code backbone})
 * @param databaseUser          user with the REPLICATION attribute ({@code database.user}, default {@code postgres})
 * @param databasePassword      its password ({@code database.password}, default empty), never logged
 * @param slotName              logical replication slot ({@code slot.name}, default {@code backbone}). It outlives the
 *                              process so that a restart resumes where it stopped
 * @param publicationName       pgoutput publication, created for the included tables when missing
 *                              ({@code publication.name}, default {@code backbone_publication})
 * @param tableIncludeList      captured tables as {@code schema.table} ({@code table.include.list}, default
 *                              {@link #DEFAULT_TABLES}). The publication lists the included tables that exist at
 *                              start-up, so create them first
 * @param offsetStorageFile     file where Debezium stores the last captured WAL position ({@code offset.storage.file},
 *                              default {@code backbone-cache-invalidator/SLOT.offsets} in {@code java.io.tmpdir})
 * @param offsetFlushIntervalMs how often captured positions are written to that file and confirmed to PostgreSQL
 *                              ({@code offset.flush.interval.ms}, default 1000). A crash replays the changes of up
 *                              to this interval
 * @param pollIntervalMs        how long Debezium waits for a new batch of changes ({@code poll.interval.ms},
 *                              default 10). Debezium waits this long for a batch to fill even when changes are
 *                              queued, so its own default of 500 adds up to half a second of lag. A value of 1
 *                              keeps the polling thread spinning for about half a core while nothing changes
 * @param captureEnabled        whether this process runs the Debezium engine ({@code capture.enabled}, default true).
 *                              Set it to false when Kafka Connect fills {@code backbone.db-changes} in a
 *                              distributed deployment
 * @param createTopics          whether start-up creates the missing topics this service reads and writes
 *                              ({@code topics.create}, default true)
 * @param topicReplicationFactor replication factor of topics created at start-up ({@code topics.replication.factor},
 *                              default 1)
 * @param tombstonesOnDelete    whether the embedded engine writes a tombstone (a null value) after each delete, as
 *                              Kafka Connect's connector does by default ({@code tombstones.on.delete}, default false).
 *                              Processing ignores tombstones either way
 * @param purgeWindowMs         CDN purges are coalesced to at most one per surrogate key per window of this length
 *                              ({@code purge.window.ms}, default 100; 0 publishes after every batch): a key not
 *                              purged within the last window is purged at once, later changes wait for the window's end
 * @param purgeSoft             whether purges are soft, marking CDN objects stale, rather than hard, removing them
 *                              ({@code purge.mode}, {@code hard} or {@code soft}, default {@code hard})
 * @param redis                 the Redis L2 tier that receives tombstones ({@code redis.*} keys, off by default)
 * @param metricsHost           address the Prometheus endpoint of a standalone invalidator binds ({@code metrics.host},
 *                              default 127.0.0.1)
 * @param metricsPort           port of that endpoint, which serves {@code GET /metrics} ({@code metrics.port}, default
 *                              {@value #DEFAULT_METRICS_PORT}; 0 picks a free port, -1 turns it off)
 * @param kafkaClient           properties passed to every Kafka client of the invalidator: each {@code kafka.*} key,
 *                              such as {@code kafka.security.protocol}
 * @param debezium              properties passed to the Debezium engine: each {@code debezium.*} key, such as
 *                              {@code debezium.database.sslmode=verify-full}. The {@code debezium.database.ssl*} keys
 *                              also reach the invalidator's own JDBC connection as the PgJDBC properties of the same
 *                              name without {@code database.} ({@code sslmode}, {@code sslrootcert}, ...). Keys that
 *                              this record sets from keys of its own are rejected (see {@link #DEBEZIUM_MANAGED})
 */
public record CacheInvalidatorConfig(
        String bootstrapServers,
        String databaseHostname,
        int databasePort,
        String databaseName,
        String databaseUser,
        String databasePassword,
        String slotName,
        String publicationName,
        List<String> tableIncludeList,
        Path offsetStorageFile,
        long offsetFlushIntervalMs,
        long pollIntervalMs,
        boolean captureEnabled,
        boolean createTopics,
        short topicReplicationFactor,
        boolean tombstonesOnDelete,
        long purgeWindowMs,
        boolean purgeSoft,
        RedisInvalidatorConfig redis,
        String metricsHost,
        int metricsPort,
        PassthroughProperties kafkaClient,
        PassthroughProperties debezium) {

    /** The service name in configuration errors and logs. */
    public static final String SERVICE_NAME = "cache-invalidator";

    public static final int DEFAULT_METRICS_PORT = 9405;

    /** The prefix of the properties passed to the Debezium engine. */
    public static final String DEBEZIUM_PREFIX = "debezium.";

    /** Debezium properties that the invalidator sets itself, with the reason shown when a {@code debezium.} key names one. */
    public static final Map<String, String> DEBEZIUM_MANAGED = Map.ofEntries(
            Map.entry("name", "the invalidator names its engine"),
            Map.entry("connector.class", "the invalidator runs the PostgreSQL connector"),
            Map.entry("plugin.name", "the invalidator decodes with pgoutput"),
            Map.entry("topic.prefix", "the invalidator maps change events by their topic"),
            Map.entry("offset.storage", "set offset.storage.file instead"),
            Map.entry("offset.storage.file.filename", "set offset.storage.file instead"),
            Map.entry("offset.flush.interval.ms", "set offset.flush.interval.ms instead"),
            Map.entry("database.hostname", "set database.hostname instead"),
            Map.entry("database.port", "set database.port instead"),
            Map.entry("database.dbname", "set database.dbname instead"),
            Map.entry("database.user", "set database.user instead"),
            Map.entry("database.password", "set database.password instead"),
            Map.entry("slot.name", "set slot.name instead"),
            Map.entry("publication.name", "set publication.name instead"),
            Map.entry("table.include.list", "set table.include.list instead"),
            Map.entry("poll.interval.ms", "set poll.interval.ms instead"),
            Map.entry("tombstones.on.delete", "set tombstones.on.delete instead"),
            Map.entry("decimal.handling.mode", "the change mapping reads NUMERIC columns as text"),
            Map.entry("message.prefix.include.list", "the start-up probe depends on it"),
            Map.entry("converter.schemas.enable", "the change mapping reads events without schemas"));

    /** The storage module's tables that map to cache keys. */
    public static final List<String> DEFAULT_TABLES = List.of("public.products", "public.categories",
            "public.static_assets", "public.accounts");

    /** PostgreSQL accepts lower-case letters, digits and underscores in slot names, at most 63 of them. */
    private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");
    private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*\\.[A-Za-z_][A-Za-z0-9_$]*");

    public CacheInvalidatorConfig {
        tableIncludeList = List.copyOf(tableIncludeList);
    }

    /**
     * Reads and validates every key.
     *
     * @throws IllegalArgumentException listing every invalid key with its value and what is accepted
     */
    public static CacheInvalidatorConfig from(Settings settings) {
        String slotName = settings.string("slot.name", "backbone");
        String password = settings.raw("database.password");
        String offsetFile = settings.raw("offset.storage.file");
        var config = new CacheInvalidatorConfig(
                settings.requiredString("bootstrap.servers", "the Kafka bootstrap servers, such as 127.0.0.1:9092"),
                settings.string("database.hostname", "127.0.0.1"),
                settings.integer("database.port", 5432, 1, 65535),
                settings.string("database.dbname", "backbone"),
                settings.string("database.user", "postgres"),
                password == null ? "" : password,
                slotName,
                settings.string("publication.name", "backbone_publication"),
                settings.list("table.include.list", DEFAULT_TABLES),
                offsetFile == null || offsetFile.isBlank() ? defaultOffsetFile(slotName) : Path.of(offsetFile.trim()),
                settings.longValue("offset.flush.interval.ms", 1_000, 10, 600_000),
                settings.longValue("poll.interval.ms", 10, 1, 60_000),
                settings.bool("capture.enabled", true),
                settings.bool("topics.create", true),
                (short) settings.integer("topics.replication.factor", 1, 1, Short.MAX_VALUE),
                settings.bool("tombstones.on.delete", false),
                settings.longValue("purge.window.ms", 100, 0, 60_000),
                settings.oneOf("purge.mode", "hard", List.of("hard", "soft")).equals("soft"),
                new RedisInvalidatorConfig(
                        settings.raw("redis.uri") == null ? "" : settings.raw("redis.uri").trim(),
                        settings.string("redis.key.prefix", RedisTombstones.DEFAULT_KEY_PREFIX),
                        settings.longValue("redis.tombstone.ttl.ms", 60_000, 1_000, 86_400_000),
                        settings.longValue("redis.timeout.ms", 2_000, 10, 60_000)),
                settings.string("metrics.host", "127.0.0.1"),
                settings.integer("metrics.port", DEFAULT_METRICS_PORT, -1, 65535),
                PassthroughProperties.kafka(settings),
                PassthroughProperties.from(settings, DEBEZIUM_PREFIX, DEBEZIUM_MANAGED, Set.of()));
        checkNames(config, settings);
        settings.requireValid(SERVICE_NAME);
        return config;
    }

    /**
     * Returns the configuration for the embedded stack: PostgreSQL on 127.0.0.1 with the default database and user,
     * every other key at its default.
     */
    public static CacheInvalidatorConfig forEmbedded(String bootstrapServers, int postgresPort) {
        return from(Settings.of(Map.of(
                "bootstrap.servers", bootstrapServers,
                "database.port", Integer.toString(postgresPort))));
    }

    /** Returns a copy that stores Debezium offsets in {@code file}. */
    public CacheInvalidatorConfig withOffsetStorageFile(Path file) {
        return new CacheInvalidatorConfig(bootstrapServers, databaseHostname, databasePort, databaseName, databaseUser,
                databasePassword, slotName, publicationName, tableIncludeList, file, offsetFlushIntervalMs,
                pollIntervalMs, captureEnabled, createTopics, topicReplicationFactor, tombstonesOnDelete, purgeWindowMs,
                purgeSoft, redis, metricsHost, metricsPort, kafkaClient, debezium);
    }

    /** Returns the JDBC URL of the captured database, without credentials. */
    public String jdbcUrl() {
        return "jdbc:postgresql://" + databaseHostname + ":" + databasePort + "/" + databaseName;
    }

    @Override
    public String toString() {
        return "CacheInvalidatorConfig[bootstrapServers=" + bootstrapServers
                + ", database=" + databaseUser + "@" + databaseHostname + ":" + databasePort + "/" + databaseName
                + ", databasePassword=" + (databasePassword.isEmpty() ? "(empty)" : "(set)")
                + ", slotName=" + slotName + ", publicationName=" + publicationName
                + ", tableIncludeList=" + tableIncludeList + ", offsetStorageFile=" + offsetStorageFile
                + ", offsetFlushIntervalMs=" + offsetFlushIntervalMs + ", pollIntervalMs=" + pollIntervalMs
                + ", captureEnabled=" + captureEnabled + ", createTopics=" + createTopics
                + ", topicReplicationFactor=" + topicReplicationFactor + ", tombstonesOnDelete=" + tombstonesOnDelete
                + ", purgeWindowMs=" + purgeWindowMs + ", purgeMode=" + (purgeSoft ? "soft" : "hard")
                + ", redis=" + redis + ", metricsHost=" + metricsHost + ", metricsPort=" + metricsPort
                + ", kafkaClient=" + kafkaClient + ", debezium=" + debezium + "]";
    }

    private static Path defaultOffsetFile(String slotName) {
        return Path.of(System.getProperty("java.io.tmpdir"), "backbone-cache-invalidator", slotName + ".offsets");
    }

    private static void checkNames(CacheInvalidatorConfig config, Settings settings) {
        if (!SLOT_NAME.matcher(config.slotName()).matches()) {
            settings.addProblem("slot.name=" + config.slotName()
                    + " is invalid; accepted: 1 to 63 lower-case letters, digits and underscores");
        }
        if (!SLOT_NAME.matcher(config.publicationName()).matches()) {
            settings.addProblem("publication.name=" + config.publicationName()
                    + " is invalid; accepted: 1 to 63 lower-case letters, digits and underscores");
        }
        if (config.tableIncludeList().isEmpty()) {
            settings.addProblem("table.include.list is empty; list at least one table as schema.table, such as "
                    + String.join(",", DEFAULT_TABLES));
        }
        String redisUri = config.redis().uri();
        if (config.redis().enabled() && !redisUri.startsWith("redis://") && !redisUri.startsWith("rediss://")
                && !redisUri.startsWith("redis-socket://")) {
            // The value is not echoed because a Redis URI may carry a password.
            settings.addProblem("redis.uri does not start with redis://, rediss:// or redis-socket://; accepted: empty "
                    + "(no Redis tier) or a Lettuce URI such as redis://127.0.0.1:6379");
        }
        for (String table : config.tableIncludeList()) {
            if (!TABLE_NAME.matcher(table).matches()) {
                settings.addProblem("table.include.list contains " + table
                        + ", which is invalid; accepted: schema.table names, such as public.products");
            }
        }
    }
}
