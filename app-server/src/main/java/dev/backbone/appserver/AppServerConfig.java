package dev.backbone.appserver;

import dev.backbone.events.PassthroughProperties;
import dev.backbone.events.Settings;
import dev.backbone.storage.RedisCacheTier;
import dev.backbone.storage.RedisTierConfig;
import dev.backbone.storage.StaticAsset;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Configuration of one app server, read by {@link #from(Settings)}. {@link #toString()} leaves secrets and the query
 * of the JDBC URL out.
 *
 * @param serverId          {@value #SERVER_ID}: the name of this instance, unique across all app servers; it is the
 *                          heartbeat key and part of the invalidation consumer group
 * @param pool              {@value #POOL}: the pool this server serves; servers of one pool share the request group
 * @param bootstrapServers  {@value #BOOTSTRAP_SERVERS}: Kafka brokers, {@code host:port} separated by commas
 * @param jdbcUrl           {@value #JDBC_URL}: the PostgreSQL JDBC URL
 * @param dbPoolSize        {@value #DB_POOL_SIZE}: the maximum number of database connections
 * @param heartbeatInterval {@value #HEARTBEAT_INTERVAL_MS}: the time between two heartbeats
 * @param workerThreads     {@value #WORKER_THREADS}: threads that handle requests in parallel
 * @param pollMaxRecords    {@value #POLL_MAX_RECORDS}: the most requests read by one poll; as many requests read and
 *                          not yet committed pause the partitions
 * @param cache             the cache tiers
 * @param auth              the bearer token checks
 * @param cdn               the CDN edges and cache headers of static content
 * @param metricsHost       {@value #METRICS_HOST}: the address the Prometheus endpoint of a standalone app server
 *                          binds, default {@value #DEFAULT_METRICS_HOST}
 * @param metricsPort       {@value #METRICS_PORT}: the port of that endpoint, which serves {@code GET /metrics},
 *                          default {@value #DEFAULT_METRICS_PORT}; 0 picks a free port and -1 turns it off
 * @param kafkaClient       properties passed to every Kafka client of the server: each {@code kafka.*} key, such as
 *                          {@code kafka.security.protocol}. PostgreSQL TLS goes in {@value #JDBC_URL}, such as
 *                          {@code ?sslmode=verify-full&sslrootcert=/etc/backbone/pg-ca.pem}
 */
public record AppServerConfig(
        String serverId,
        String pool,
        String bootstrapServers,
        String jdbcUrl,
        int dbPoolSize,
        Duration heartbeatInterval,
        int workerThreads,
        int pollMaxRecords,
        CacheConfig cache,
        AuthConfig auth,
        CdnConfig cdn,
        String metricsHost,
        int metricsPort,
        PassthroughProperties kafkaClient) {

    public static final String SERVER_ID = "server.id";
    public static final String POOL = "pool";
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String JDBC_URL = "jdbc.url";
    public static final String DB_POOL_SIZE = "db.pool.size";
    public static final String HEARTBEAT_INTERVAL_MS = "heartbeat.interval.ms";
    public static final String WORKER_THREADS = "worker.threads";
    public static final String POLL_MAX_RECORDS = "poll.max.records";
    public static final String CACHE_MAX_ENTRIES = "cache.max.entries";
    public static final String CACHE_TTL_MS = "cache.ttl.ms";
    public static final String CACHE_NEGATIVE_TTL_MS = "cache.negative.ttl.ms";
    public static final String CACHE_PINNED_KEYS = "cache.pinned.keys";
    public static final String CACHE_PINNED_MAX_ENTRIES = "cache.pinned.max.entries";
    public static final String REDIS_URI = "redis.uri";
    public static final String REDIS_KEY_PREFIX = "redis.key.prefix";
    public static final String REDIS_TTL_MS = "redis.ttl.ms";
    public static final String REDIS_TOMBSTONE_TTL_MS = "redis.tombstone.ttl.ms";
    public static final String REDIS_TIMEOUT_MS = "redis.timeout.ms";
    public static final String REDIS_LEASE_MARGIN_MS = "redis.lease.margin.ms";
    public static final String AUTH_SECRET = "auth.secret";
    public static final String AUTH_CLOCK_SKEW_S = "auth.clock.skew.s";
    public static final String EDGE_TOKEN = "edge.token";
    public static final String CDN_EDGES = "cdn.edges";
    public static final String CDN_DEFAULT_EDGE = "cdn.default.edge";
    public static final String CDN_CLIENT_MAX_AGE_S = "cdn.client.max.age.s";
    public static final String CDN_EDGE_MAX_AGE_S = "cdn.edge.max.age.s";
    public static final String CDN_STALE_WHILE_REVALIDATE_S = "cdn.stale.while.revalidate.s";
    public static final String CDN_STALE_IF_ERROR_S = "cdn.stale.if.error.s";
    public static final String METRICS_HOST = "metrics.host";
    public static final String METRICS_PORT = "metrics.port";

    public static final String DEFAULT_POOL = "shop";
    public static final int DEFAULT_DB_POOL_SIZE = 8;
    public static final long DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
    public static final int DEFAULT_WORKER_THREADS = 8;
    public static final int DEFAULT_POLL_MAX_RECORDS = 200;
    public static final long DEFAULT_CACHE_MAX_ENTRIES = 10_000;
    public static final long DEFAULT_CACHE_TTL_MS = 60_000;
    public static final long DEFAULT_CACHE_NEGATIVE_TTL_MS = 5_000;
    public static final int DEFAULT_CACHE_PINNED_MAX_ENTRIES = 10_000;
    public static final long DEFAULT_REDIS_TTL_MS = 300_000;
    /** The cache invalidator's default tombstone TTL, so tombstones of both writers last as long. */
    public static final long DEFAULT_REDIS_TOMBSTONE_TTL_MS = 60_000;
    public static final long DEFAULT_REDIS_TIMEOUT_MS = 500;
    public static final long DEFAULT_REDIS_LEASE_MARGIN_MS = 100;
    public static final long DEFAULT_AUTH_CLOCK_SKEW_S = 30;
    public static final long DEFAULT_CDN_CLIENT_MAX_AGE_S = 60;
    public static final long DEFAULT_CDN_EDGE_MAX_AGE_S = 300;
    public static final long DEFAULT_CDN_STALE_WHILE_REVALIDATE_S = 30;
    public static final long DEFAULT_CDN_STALE_IF_ERROR_S = 600;
    public static final String DEFAULT_METRICS_HOST = "127.0.0.1";
    public static final int DEFAULT_METRICS_PORT = 9404;
    /** Edge tokens shorter than this are rejected, because edges can read every asset with one. */
    public static final int MIN_EDGE_TOKEN_LENGTH = 16;

    /** Server ids and pool names become parts of consumer group ids and client ids. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,100}");
    private static final String NAME_ACCEPTED = "1 to 100 letters, digits, '.', '_' or '-'";
    private static final Pattern REGION = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern PINNABLE_ID_KEY = Pattern.compile("(product|account):[0-9]{1,18}");
    private static final long ONE_YEAR_S = Duration.ofDays(365).toSeconds();

    public AppServerConfig {
        Objects.requireNonNull(serverId, "serverId");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(cdn, "cdn");
        Objects.requireNonNull(metricsHost, "metricsHost");
        Objects.requireNonNull(kafkaClient, "kafkaClient");
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
        long heartbeatIntervalMs = settings.longValue(HEARTBEAT_INTERVAL_MS, DEFAULT_HEARTBEAT_INTERVAL_MS, 10, 60_000);
        int workerThreads = settings.integer(WORKER_THREADS, DEFAULT_WORKER_THREADS, 1, 1_024);
        int pollMaxRecords = settings.integer(POLL_MAX_RECORDS, DEFAULT_POLL_MAX_RECORDS, 1, 10_000);
        CacheConfig cache = readCache(settings);
        AuthConfig auth = readAuth(settings);
        CdnConfig cdn = readCdn(settings);
        String metricsHost = settings.string(METRICS_HOST, DEFAULT_METRICS_HOST);
        int metricsPort = settings.integer(METRICS_PORT, DEFAULT_METRICS_PORT, -1, 65_535);
        PassthroughProperties kafkaClient = PassthroughProperties.kafka(settings);

        if (!serverId.isEmpty() && !NAME.matcher(serverId).matches()) {
            settings.addProblem(SERVER_ID + "=" + serverId + " is not accepted; accepted: " + NAME_ACCEPTED);
        }
        if (!NAME.matcher(pool).matches()) {
            settings.addProblem(POOL + "=" + pool + " is not accepted; accepted: " + NAME_ACCEPTED);
        }
        if (!jdbcUrl.isEmpty() && !jdbcUrl.startsWith("jdbc:postgresql:")) {
            settings.addProblem(JDBC_URL + "=" + withoutQuery(jdbcUrl) + " is not a PostgreSQL JDBC URL; accepted: jdbc:postgresql://HOST:PORT/DATABASE");
        }
        settings.requireValid("app-server");

        return new AppServerConfig(serverId, pool, bootstrapServers, jdbcUrl, dbPoolSize,
                Duration.ofMillis(heartbeatIntervalMs), workerThreads, pollMaxRecords, cache, auth, cdn, metricsHost, metricsPort,
                kafkaClient);
    }

    private static CacheConfig readCache(Settings settings) {
        long maxEntries = settings.longValue(CACHE_MAX_ENTRIES, DEFAULT_CACHE_MAX_ENTRIES, 0, 100_000_000);
        long ttlMs = settings.longValue(CACHE_TTL_MS, DEFAULT_CACHE_TTL_MS, 1, Duration.ofDays(7).toMillis());
        long negativeTtlMs = settings.longValue(CACHE_NEGATIVE_TTL_MS, DEFAULT_CACHE_NEGATIVE_TTL_MS, 0, Duration.ofHours(1).toMillis());
        List<String> pinnedKeys = settings.list(CACHE_PINNED_KEYS, List.of());
        int pinnedMaxEntries = settings.integer(CACHE_PINNED_MAX_ENTRIES, DEFAULT_CACHE_PINNED_MAX_ENTRIES, 0, 1_000_000);
        for (String key : pinnedKeys) {
            boolean asset = key.startsWith("asset:") && StaticAsset.isValidPath(key.substring("asset:".length()));
            if (!asset && !PINNABLE_ID_KEY.matcher(key).matches()) {
                settings.addProblem(CACHE_PINNED_KEYS + " contains " + key + ", which is not accepted; accepted: cache keys"
                        + " product:ID, account:ID or asset:PATH separated by commas, such as product:42,account:7");
            }
        }

        String redisUri = settings.string(REDIS_URI, "");
        String keyPrefix = settings.string(REDIS_KEY_PREFIX, RedisCacheTier.DEFAULT_KEY_PREFIX);
        long redisTtlMs = settings.longValue(REDIS_TTL_MS, DEFAULT_REDIS_TTL_MS, 1, Duration.ofDays(7).toMillis());
        long tombstoneTtlMs = settings.longValue(REDIS_TOMBSTONE_TTL_MS, DEFAULT_REDIS_TOMBSTONE_TTL_MS, 1,
                Duration.ofDays(1).toMillis());
        long timeoutMs = settings.longValue(REDIS_TIMEOUT_MS, DEFAULT_REDIS_TIMEOUT_MS, 1, 60_000);
        long leaseMarginMs = settings.longValue(REDIS_LEASE_MARGIN_MS, DEFAULT_REDIS_LEASE_MARGIN_MS, 0, 60_000);
        RedisTierConfig redis = null;
        if (!redisUri.isEmpty()) {
            if (!redisUri.startsWith("redis://") && !redisUri.startsWith("rediss://")) {
                settings.addProblem(REDIS_URI + "=" + RedisTierConfig.withoutCredentials(redisUri) + " is not a Redis URI;"
                        + " accepted: redis://HOST:PORT or rediss://HOST:PORT, or no value for no L2 cache");
            }
            redis = new RedisTierConfig(redisUri, keyPrefix, Duration.ofMillis(redisTtlMs), Duration.ofMillis(negativeTtlMs),
                    Duration.ofMillis(tombstoneTtlMs), Duration.ofMillis(timeoutMs), Duration.ofMillis(leaseMarginMs));
        }
        return new CacheConfig(maxEntries, Duration.ofMillis(ttlMs), Duration.ofMillis(negativeTtlMs), pinnedKeys,
                pinnedMaxEntries, redis);
    }

    private static AuthConfig readAuth(Settings settings) {
        String secret = settings.requiredString(AUTH_SECRET, "the HMAC key of bearer tokens, at least "
                + TokenSigner.MIN_SECRET_BYTES + " bytes, such as the output of: openssl rand -base64 32");
        int secretBytes = secret.getBytes(StandardCharsets.UTF_8).length;
        if (!secret.isEmpty() && secretBytes < TokenSigner.MIN_SECRET_BYTES) {
            // The value itself is a secret and stays out of the message.
            settings.addProblem(AUTH_SECRET + " is " + secretBytes + " bytes long; accepted: at least "
                    + TokenSigner.MIN_SECRET_BYTES + " bytes, such as the output of: openssl rand -base64 32");
        }
        long skewS = settings.longValue(AUTH_CLOCK_SKEW_S, DEFAULT_AUTH_CLOCK_SKEW_S, 0, 3_600);
        return new AuthConfig(secret, Duration.ofSeconds(skewS));
    }

    private static CdnConfig readCdn(Settings settings) {
        String edgeToken = settings.raw(EDGE_TOKEN) == null ? "" : settings.raw(EDGE_TOKEN).trim();
        if (!edgeToken.isEmpty() && edgeToken.length() < MIN_EDGE_TOKEN_LENGTH) {
            settings.addProblem(EDGE_TOKEN + " is " + edgeToken.length() + " characters long; accepted: at least "
                    + MIN_EDGE_TOKEN_LENGTH + " characters, or no value when no CDN edge fetches from this origin");
        }

        Map<String, String> edges = new LinkedHashMap<>();
        for (String entry : settings.list(CDN_EDGES, List.of())) {
            int equals = entry.indexOf('=');
            String region = equals < 0 ? "" : entry.substring(0, equals).trim();
            String url = equals < 0 ? "" : normalizedEdgeUrl(entry.substring(equals + 1).trim());
            if (!REGION.matcher(region).matches() || url == null) {
                settings.addProblem(CDN_EDGES + " contains " + entry + ", which is not accepted; accepted: REGION=URL pairs"
                        + " separated by commas, such as us-east=http://127.0.0.1:8090/,eu-west=http://127.0.0.1:8091/");
            } else if (edges.put(region, url) != null) {
                settings.addProblem(CDN_EDGES + " names region " + region + " twice; accepted: one edge per region");
            }
        }

        String defaultEdgeValue = settings.string(CDN_DEFAULT_EDGE, "");
        String defaultEdge = defaultEdgeValue.isEmpty() ? "" : normalizedEdgeUrl(defaultEdgeValue);
        if (defaultEdge == null) {
            settings.addProblem(CDN_DEFAULT_EDGE + "=" + defaultEdgeValue + " is not an edge URL; accepted: an http or https"
                    + " URL with a host, such as http://127.0.0.1:8090/, or no value to serve unlisted regions from the origin");
            defaultEdge = "";
        }

        long clientMaxAgeS = settings.longValue(CDN_CLIENT_MAX_AGE_S, DEFAULT_CDN_CLIENT_MAX_AGE_S, 0, ONE_YEAR_S);
        long edgeMaxAgeS = settings.longValue(CDN_EDGE_MAX_AGE_S, DEFAULT_CDN_EDGE_MAX_AGE_S, 0, ONE_YEAR_S);
        long staleWhileRevalidateS = settings.longValue(CDN_STALE_WHILE_REVALIDATE_S, DEFAULT_CDN_STALE_WHILE_REVALIDATE_S, 0, ONE_YEAR_S);
        long staleIfErrorS = settings.longValue(CDN_STALE_IF_ERROR_S, DEFAULT_CDN_STALE_IF_ERROR_S, 0, ONE_YEAR_S);
        return new CdnConfig(edgeToken, edges, defaultEdge, Duration.ofSeconds(clientMaxAgeS), Duration.ofSeconds(edgeMaxAgeS),
                Duration.ofSeconds(staleWhileRevalidateS), Duration.ofSeconds(staleIfErrorS));
    }

    /** Returns an http(s) URL with a host and without a trailing slash, or {@code null} when it is not one. */
    private static String normalizedEdgeUrl(String url) {
        try {
            URI parsed = new URI(url);
            boolean http = "http".equals(parsed.getScheme()) || "https".equals(parsed.getScheme());
            if (!http || parsed.getHost() == null || parsed.getQuery() != null || parsed.getFragment() != null) {
                return null;
            }
        } catch (URISyntaxException e) {
            return null;
        }
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /** Returns the consumer group of {@code backbone.routed-requests}, shared by every server of the pool. */
    public String requestGroupId() {
        return "backbone-app-servers-" + pool;
    }

    /** Returns the consumer group of {@code backbone.cache-invalidations}, one per server so that each reads every record. */
    public String invalidationGroupId() {
        return "backbone-app-server-" + serverId;
    }

    @Override
    public String toString() {
        return "AppServerConfig[serverId=" + serverId + ", pool=" + pool + ", bootstrapServers=" + bootstrapServers
                + ", jdbcUrl=" + withoutQuery(jdbcUrl) + ", dbPoolSize=" + dbPoolSize + ", heartbeatInterval="
                + heartbeatInterval + ", workerThreads=" + workerThreads + ", pollMaxRecords=" + pollMaxRecords
                + ", cache=" + cache + ", auth=" + auth + ", cdn=" + cdn + ", metricsHost=" + metricsHost
                + ", metricsPort=" + metricsPort + ", kafkaClient=" + kafkaClient + "]";
    }

    /** Returns the URL without its query string, which may carry a password. */
    private static String withoutQuery(String jdbcUrl) {
        return jdbcUrl.contains("?") ? jdbcUrl.substring(0, jdbcUrl.indexOf('?')) + "?..." : jdbcUrl;
    }
}
