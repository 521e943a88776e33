package dev.backbone.appserver;

import dev.backbone.events.Settings;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Configuration of one app server, read by {@link #from(Settings)}.
 *
 * @param serverId          {@value #SERVER_ID}: the name of this instance, unique across all app servers; it is the
 *                          heartbeat key and part of the invalidation consumer group
 * @param pool              {@value #POOL}: the pool this server serves; servers of one pool share the request group
 * @param bootstrapServers  {@value #BOOTSTRAP_SERVERS}: Kafka brokers, {@code host:port} separated by commas
 * @param jdbcUrl           {@value #JDBC_URL}: the PostgreSQL JDBC URL
 * @param dbPoolSize        {@value #DB_POOL_SIZE}: the maximum number of database connections
 * @param cacheMaxEntries   {@value #CACHE_MAX_ENTRIES}: the maximum number of products in the in-process cache
 * @param cacheTtl          {@value #CACHE_TTL_MS}: how long a cached product stays after its fill
 * @param heartbeatInterval {@value #HEARTBEAT_INTERVAL_MS}: the time between two heartbeats
 * @param workerThreads     {@value #WORKER_THREADS}: threads that handle requests in parallel
 * @param pollMaxRecords    {@value #POLL_MAX_RECORDS}: the maximum number of requests handled as one batch
 */
public record AppServerConfig(
        String serverId,
        String pool,
        String bootstrapServers,
        String jdbcUrl,
        int dbPoolSize,
        long cacheMaxEntries,
        Duration cacheTtl,
        Duration heartbeatInterval,
        int workerThreads,
        int pollMaxRecords) {

    public static final String SERVER_ID = "server.id";
    public static final String POOL = "pool";
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String JDBC_URL = "jdbc.url";
    public static final String DB_POOL_SIZE = "db.pool.size";
    public static final String CACHE_MAX_ENTRIES = "cache.max.entries";
    public static final String CACHE_TTL_MS = "cache.ttl.ms";
    public static final String HEARTBEAT_INTERVAL_MS = "heartbeat.interval.ms";
    public static final String WORKER_THREADS = "worker.threads";
    public static final String POLL_MAX_RECORDS = "poll.max.records";

    public static final String DEFAULT_POOL = "shop";
    public static final int DEFAULT_DB_POOL_SIZE = 8;
    public static final long DEFAULT_CACHE_MAX_ENTRIES = 10_000;
    public static final long DEFAULT_CACHE_TTL_MS = 60_000;
    public static final long DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
    public static final int DEFAULT_WORKER_THREADS = 8;
    public static final int DEFAULT_POLL_MAX_RECORDS = 200;

    /** Server ids and pool names become parts of consumer group ids and client ids. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,100}");
    private static final String NAME_ACCEPTED = "1 to 100 letters, digits, '.', '_' or '-'";

    public AppServerConfig {
        Objects.requireNonNull(serverId, "serverId");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(cacheTtl, "cacheTtl");
        Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
    }

    /**
     * Reads and checks every key.
     *
     * @throws IllegalArgumentException listing every missing or invalid key with its value and what is accepted
     */
    public static AppServerConfig from(Settings settings) {
        String serverId = settings.requiredString(SERVER_ID, "a unique name of this app server, such as app-1");
        String pool = settings.string(POOL, DEFAULT_POOL);
        String bootstrapServers = settings.requiredString(BOOTSTRAP_SERVERS,
                "Kafka brokers as host:port separated by commas, such as 127.0.0.1:9092");
        String jdbcUrl = settings.requiredString(JDBC_URL,
                "a PostgreSQL JDBC URL, such as jdbc:postgresql://127.0.0.1:5432/backbone?user=postgres");
        int dbPoolSize = settings.integer(DB_POOL_SIZE, DEFAULT_DB_POOL_SIZE, 1, 1_000);
        long cacheMaxEntries = settings.longValue(CACHE_MAX_ENTRIES, DEFAULT_CACHE_MAX_ENTRIES, 0, 100_000_000);
        long cacheTtlMs = settings.longValue(CACHE_TTL_MS, DEFAULT_CACHE_TTL_MS, 1, Duration.ofDays(7).toMillis());
        long heartbeatIntervalMs = settings.longValue(HEARTBEAT_INTERVAL_MS, DEFAULT_HEARTBEAT_INTERVAL_MS, 10, 60_000);
        int workerThreads = settings.integer(WORKER_THREADS, DEFAULT_WORKER_THREADS, 1, 1_024);
        int pollMaxRecords = settings.integer(POLL_MAX_RECORDS, DEFAULT_POLL_MAX_RECORDS, 1, 10_000);

        if (!serverId.isEmpty() && !NAME.matcher(serverId).matches()) {
            settings.addProblem(SERVER_ID + "=" + serverId + " is not accepted; accepted: " + NAME_ACCEPTED);
        }
        if (!NAME.matcher(pool).matches()) {
            settings.addProblem(POOL + "=" + pool + " is not accepted; accepted: " + NAME_ACCEPTED);
        }
        if (!jdbcUrl.isEmpty() && !jdbcUrl.startsWith("jdbc:postgresql:")) {
            // The query string is left out of the message because it may carry a password.
            String urlWithoutQuery = jdbcUrl.contains("?") ? jdbcUrl.substring(0, jdbcUrl.indexOf('?')) + "?..." : jdbcUrl;
            settings.addProblem(JDBC_URL + "=" + urlWithoutQuery + " is not a PostgreSQL JDBC URL; accepted: jdbc:postgresql://HOST:PORT/DATABASE");
        }
        settings.requireValid("app-server");

        return new AppServerConfig(serverId, pool, bootstrapServers, jdbcUrl, dbPoolSize, cacheMaxEntries,
                Duration.ofMillis(cacheTtlMs), Duration.ofMillis(heartbeatIntervalMs), workerThreads, pollMaxRecords);
    }

    /** Returns the consumer group of {@code backbone.routed-requests}, shared by every server of the pool. */
    public String requestGroupId() {
        return "backbone-app-servers-" + pool;
    }

    /** Returns the consumer group of {@code backbone.cache-invalidations}, one per server so that each reads every record. */
    public String invalidationGroupId() {
        return "backbone-app-server-" + serverId;
    }
}
