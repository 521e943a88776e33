package dev.backbone.routing;

import dev.backbone.events.PassthroughProperties;
import dev.backbone.events.Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Configuration of one routing-streams instance. Every key is read by {@link #from(Settings)}.
 *
 * @param bootstrapServers            Kafka bootstrap servers ({@code bootstrap.servers}, required)
 * @param applicationId               the Kafka Streams application id ({@code application.id}, default
 *                                    {@value #DEFAULT_APPLICATION_ID}); instances with the same id share the work
 * @param stateDir                    the Kafka Streams state directory ({@code state.dir}, default a new temporary
 *                                    directory, so that the client DNS cache is restored from its changelog)
 * @param numStreamThreads            stream threads of this instance ({@code num.stream.threads}, default 1)
 * @param commitIntervalMs            Kafka Streams commit interval ({@code commit.interval.ms}, default 1000)
 * @param fetchMaxWaitMs              consumer {@code fetch.max.wait.ms} ({@code fetch.max.wait.ms}, default 500); tests
 *                                    set it low
 * @param sessionTimeoutMs            how long the group waits for a silent instance before it moves that instance's
 *                                    tasks to the others ({@code session.timeout.ms}, default 10000; Kafka's default of
 *                                    45 s would leave the partitions of a killed instance unrouted that long; the
 *                                    broker accepts 6000 and more by default)
 * @param lbAddresses                 load-balancer addresses this instance sends heartbeats for ({@code lb.addresses},
 *                                    comma-separated, default {@code lb-1,lb-2})
 * @param lbPool                      the app-server pool those load balancers front ({@code lb.pool}, default
 *                                    {@code shop})
 * @param lbHeartbeatIntervalMs       interval of the load-balancer heartbeats ({@code lb.heartbeat.interval.ms},
 *                                    default 1000); 0 sends none
 * @param lbRole                      whether this instance heartbeats its load-balancer addresses all the time or
 *                                    waits as a standby ({@code lb.role}, {@code active} (default) or {@code standby}); see
 *                                    {@link LoadBalancerHeartbeats}
 * @param lbStandbyTakeoverMs         a standby takes over an address after this long without a heartbeat for it
 *                                    ({@code lb.standby.takeover.ms}, default twice {@code lb.heartbeat.interval.ms});
 *                                    below {@code heartbeat.timeout.ms}, so the address never goes DOWN on the way
 * @param heartbeatTimeoutMs          a sender with no heartbeat received for this long is DOWN
 *                                    ({@code heartbeat.timeout.ms}, default 3000)
 * @param heartbeatRiseCount          heartbeats in a row a DOWN sender needs to be UP again
 *                                    ({@code heartbeat.rise.count}, default 2)
 * @param heartbeatCheckIntervalMs    interval of the wall-clock punctuator that marks silent senders DOWN
 *                                    ({@code heartbeat.check.interval.ms}, default 500)
 * @param heartbeatMaxAgeMs           a heartbeat that arrives this long after its {@code sentAtMs} is stale and gives
 *                                    no liveness, such as the history replayed at start-up ({@code heartbeat.max.age.ms},
 *                                    default 30000; at least {@code heartbeat.timeout.ms}); also the largest clock
 *                                    skew between senders and routers that is tolerated
 * @param dnsNegativeTtlMs            how long a client caches an unknown-host answer ({@code dns.negative.ttl.ms},
 *                                    default 5000; 0 does not cache it)
 * @param dnsCacheMaxEntriesPerClient names one client's DNS cache holds before the entry closest to expiry is
 *                                    evicted ({@code dns.cache.max.entries.per.client}, default 100)
 * @param dnsCachePurgeIntervalMs     wall-clock interval of the punctuator that deletes expired client DNS cache
 *                                    entries ({@code dns.cache.purge.interval.ms}, default 1000)
 * @param traceRetentionMs            how long the routing trace of a request stays queryable by request id
 *                                    ({@code trace.retention.ms}, default 600000); 0 stores no traces
 * @param defaultPoolSettings         settings of pools not listed in {@code lb.pools}: {@code lb.hash.key}
 *                                    ({@code client} (default), {@code path} or {@code header:<name>}),
 *                                    {@code lb.bounded.load.factor} (default 0: off) and {@code lb.load.window.ms}
 *                                    (default 60000)
 * @param poolSettings                settings of each pool named in {@code lb.pools} (comma-separated, default the
 *                                    value of {@code lb.pool}), from {@code pool.<name>.hash.key},
 *                                    {@code pool.<name>.bounded.load.factor} and {@code pool.<name>.load.window.ms},
 *                                    each defaulting to its {@code lb.} key
 * @param maglevTableSize             Maglev lookup-table size, a prime ({@code maglev.table.size}, default
 *                                    {@value Maglev#DEFAULT_TABLE_SIZE})
 * @param createTopics                whether start-up creates missing Backbone topics ({@code topics.create}, default
 *                                    true)
 * @param topicReplicationFactor      replication factor of topics created at start-up
 *                                    ({@code topics.replication.factor}, default 1)
 * @param restHost                    address the REST API binds to ({@code rest.host}, default
 *                                    {@value #DEFAULT_REST_HOST})
 * @param restPort                    port of the REST API ({@code rest.port}, default {@value #DEFAULT_REST_PORT}; 0 picks
 *                                    a free port)
 * @param applicationServer           {@code host:port} at which other instances reach this instance's REST API, for
 *                                    forwarded interactive queries ({@code application.server}, default null: the
 *                                    REST host and the bound port)
 * @param adminToken                  bearer token of the admin endpoints ({@code admin.token}, at least
 *                                    {@value AdminToken#MIN_LENGTH} characters; default null, and the admin
 *                                    endpoints answer 403)
 * @param kafkaClient                 properties passed to Kafka Streams, which hands them to its clients, and to the
 *                                    admin client and side producer: each {@code kafka.*} key, such as
 *                                    {@code kafka.security.protocol}. They apply on top of the properties above
 */
public record RoutingConfig(
        String bootstrapServers,
        String applicationId,
        Path stateDir,
        int numStreamThreads,
        long commitIntervalMs,
        int fetchMaxWaitMs,
        long sessionTimeoutMs,
        List<String> lbAddresses,
        String lbPool,
        long lbHeartbeatIntervalMs,
        LbRole lbRole,
        long lbStandbyTakeoverMs,
        long heartbeatTimeoutMs,
        int heartbeatRiseCount,
        long heartbeatCheckIntervalMs,
        long heartbeatMaxAgeMs,
        long dnsNegativeTtlMs,
        int dnsCacheMaxEntriesPerClient,
        long dnsCachePurgeIntervalMs,
        long traceRetentionMs,
        PoolSettings defaultPoolSettings,
        Map<String, PoolSettings> poolSettings,
        int maglevTableSize,
        boolean createTopics,
        short topicReplicationFactor,
        String restHost,
        int restPort,
        String applicationServer,
        AdminToken adminToken,
        PassthroughProperties kafkaClient) {

    public static final String SERVICE_NAME = "routing-streams";
    public static final String DEFAULT_APPLICATION_ID = "backbone-routing";
    public static final String DEFAULT_REST_HOST = "127.0.0.1";
    public static final int DEFAULT_REST_PORT = 8081;

    /** The value the load balancer hashes to choose an app server. */
    public enum HashKey {
        /** The client id: a client stays on one app server while the pool is unchanged (session affinity). */
        CLIENT,
        /** The request path: a resource stays on one app server, so its cache entry lives in one place. */
        PATH,
        /** A named request header, such as a session id; requests without it are hashed by client id. */
        HEADER;

        /** Returns the configuration value, {@code client} or {@code path}. */
        public String configValue() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Whether an instance heartbeats its load-balancer addresses all the time or only after the active one stops. */
    public enum LbRole { ACTIVE, STANDBY }

    public RoutingConfig {
        lbAddresses = List.copyOf(lbAddresses);
        poolSettings = Map.copyOf(poolSettings);
    }

    /** Returns the hash-key kind of pools without settings of their own ({@code lb.hash.key}). */
    public HashKey hashKey() {
        return defaultPoolSettings.hashKey().kind();
    }

    /** Returns the settings of a pool: its own when it is listed in {@code lb.pools}, else the defaults. */
    PoolSettings poolSettings(String pool) {
        return poolSettings.getOrDefault(pool, defaultPoolSettings);
    }

    /**
     * Reads and validates every key.
     *
     * @throws IllegalArgumentException listing every invalid key with its value and what is accepted
     * @throws UncheckedIOException     when {@code state.dir} is not set and no temporary directory can be created
     */
    public static RoutingConfig from(Settings settings) {
        String bootstrapServers = settings.requiredString("bootstrap.servers", "the Kafka bootstrap servers, such as 127.0.0.1:9092");
        String applicationId = settings.string("application.id", DEFAULT_APPLICATION_ID);
        String stateDir = settings.string("state.dir", null);
        int numStreamThreads = settings.integer("num.stream.threads", 1, 1, 64);
        long commitIntervalMs = settings.longValue("commit.interval.ms", 1000, 1, 600_000);
        int fetchMaxWaitMs = settings.integer("fetch.max.wait.ms", 500, 0, 60_000);
        long sessionTimeoutMs = settings.longValue("session.timeout.ms", 10_000, 6_000, 600_000);
        List<String> lbAddresses = settings.list("lb.addresses", List.of("lb-1", "lb-2"));
        String lbPool = settings.string("lb.pool", "shop");
        long lbHeartbeatIntervalMs = settings.longValue("lb.heartbeat.interval.ms", 1_000, 0, 600_000);
        String lbRole = settings.oneOf("lb.role", "active", List.of("active", "standby"));
        long lbStandbyTakeoverMs = settings.longValue("lb.standby.takeover.ms", 2 * Math.max(1, lbHeartbeatIntervalMs),
                1, 3_600_000);
        long heartbeatTimeoutMs = settings.longValue("heartbeat.timeout.ms", 3_000, 1, 3_600_000);
        int heartbeatRiseCount = settings.integer("heartbeat.rise.count", 2, 1, 100);
        long heartbeatCheckIntervalMs = settings.longValue("heartbeat.check.interval.ms", 500, 1, 600_000);
        long heartbeatMaxAgeMs = settings.longValue("heartbeat.max.age.ms", Math.max(30_000, heartbeatTimeoutMs), 1,
                86_400_000);
        long dnsNegativeTtlMs = settings.longValue("dns.negative.ttl.ms", 5_000, 0, 86_400_000);
        int maxEntriesPerClient = settings.integer("dns.cache.max.entries.per.client", 100, 1, 100_000);
        long purgeIntervalMs = settings.longValue("dns.cache.purge.interval.ms", 1_000, 1, 3_600_000);
        long traceRetentionMs = traceRetentionMs(settings);
        String lbPoolsValue = settings.raw("lb.pools");
        PoolSettings defaultPoolSettings = poolSettings(settings, "lb.", null);
        int maglevTableSize = settings.integer("maglev.table.size", Maglev.DEFAULT_TABLE_SIZE, 3, Maglev.MAX_TABLE_SIZE);
        boolean createTopics = settings.bool("topics.create", true);
        int replicationFactor = settings.integer("topics.replication.factor", 1, 1, Short.MAX_VALUE);
        String restHost = settings.string("rest.host", DEFAULT_REST_HOST);
        int restPort = settings.integer("rest.port", DEFAULT_REST_PORT, 0, 65_535);
        String applicationServer = settings.string("application.server", null);
        AdminToken adminToken = adminToken(settings);
        PassthroughProperties kafkaClient = PassthroughProperties.kafka(settings);
        var poolSettings = new TreeMap<String, PoolSettings>();
        for (String pool : settings.list("lb.pools", List.of(lbPool))) {
            poolSettings.put(pool, poolSettings(settings, "pool." + pool + ".", defaultPoolSettings));
        }
        if (lbPoolsValue != null && poolSettings.isEmpty()) {
            settings.addProblem("lb.pools is empty; list the pools with settings of their own, such as shop,search, "
                    + "or remove the key");
        }

        if (settings.raw("lb.addresses") != null && lbAddresses.isEmpty()) {
            settings.addProblem("lb.addresses is empty; set a comma-separated list of load-balancer addresses, such as lb-1,lb-2");
        }
        if (!BigInteger.valueOf(maglevTableSize).isProbablePrime(32)) {
            settings.addProblem("maglev.table.size=" + maglevTableSize + " is not a prime; accepted: a prime such as 65537, "
                    + "at least 100 times the number of app servers in a pool");
        }
        if (lbHeartbeatIntervalMs > 0 && heartbeatTimeoutMs <= lbHeartbeatIntervalMs) {
            settings.addProblem("heartbeat.timeout.ms=" + heartbeatTimeoutMs + " is not above lb.heartbeat.interval.ms="
                    + lbHeartbeatIntervalMs + ", so load balancers would look dead between heartbeats; "
                    + "set heartbeat.timeout.ms to at least twice lb.heartbeat.interval.ms");
        }
        if (heartbeatMaxAgeMs < heartbeatTimeoutMs) {
            settings.addProblem("heartbeat.max.age.ms=" + heartbeatMaxAgeMs + " is below heartbeat.timeout.ms="
                    + heartbeatTimeoutMs + ", so heartbeats that are late but in time would count as stale; "
                    + "set heartbeat.max.age.ms to at least heartbeat.timeout.ms");
        }
        if (lbRole.equals("standby") && lbStandbyTakeoverMs >= heartbeatTimeoutMs) {
            settings.addProblem("lb.standby.takeover.ms=" + lbStandbyTakeoverMs + " is not below heartbeat.timeout.ms="
                    + heartbeatTimeoutMs + ", so an address would go DOWN before its standby takes over; set "
                    + "lb.standby.takeover.ms between lb.heartbeat.interval.ms and heartbeat.timeout.ms");
        }
        if (lbRole.equals("standby") && lbHeartbeatIntervalMs == 0) {
            settings.addProblem("lb.role=standby needs lb.heartbeat.interval.ms above 0, because a standby takes over "
                    + "by sending heartbeats; set lb.heartbeat.interval.ms, such as 1000");
        }
        checkApplicationServer(settings, restHost, applicationServer);
        settings.requireValid(SERVICE_NAME);

        return new RoutingConfig(bootstrapServers, applicationId, stateDirOrTemporary(stateDir), numStreamThreads,
                commitIntervalMs, fetchMaxWaitMs, sessionTimeoutMs, lbAddresses, lbPool, lbHeartbeatIntervalMs,
                LbRole.valueOf(lbRole.toUpperCase(Locale.ROOT)), lbStandbyTakeoverMs, heartbeatTimeoutMs,
                heartbeatRiseCount, heartbeatCheckIntervalMs, heartbeatMaxAgeMs, dnsNegativeTtlMs, maxEntriesPerClient,
                purgeIntervalMs, traceRetentionMs, defaultPoolSettings, poolSettings, maglevTableSize, createTopics,
                (short) replicationFactor, restHost, restPort, applicationServer, adminToken, kafkaClient);
    }

    /**
     * Reads the load-balancing keys under a prefix: {@code lb.} for the defaults, {@code pool.<name>.} for one pool,
     * whose missing keys take the defaults.
     */
    private static PoolSettings poolSettings(Settings settings, String prefix, PoolSettings defaults) {
        String hashKeyKey = prefix + "hash.key";
        PoolSettings.HashKeyRule hashKey = defaults == null
                ? new PoolSettings.HashKeyRule(HashKey.CLIENT, null) : defaults.hashKey();
        String hashKeyValue = settings.raw(hashKeyKey);
        if (hashKeyValue != null) {
            try {
                hashKey = PoolSettings.HashKeyRule.parse(hashKeyValue);
            } catch (IllegalArgumentException e) {
                settings.addProblem(hashKeyKey + "=" + hashKeyValue + " is not accepted; accepted: "
                        + PoolSettings.HashKeyRule.ACCEPTED);
            }
        }
        String factorKey = prefix + "bounded.load.factor";
        double factor = settings.doubleValue(factorKey, defaults == null ? PoolSettings.NO_BOUND
                : defaults.boundedLoadFactor(), 0, 100);
        if (factor > 0 && factor < BoundedLoads.MIN_FACTOR) {
            settings.addProblem(factorKey + "=" + factor + " is not accepted; accepted: 0 (off) or a factor from "
                    + BoundedLoads.MIN_FACTOR + ", such as 1.25");
            factor = PoolSettings.NO_BOUND;
        }
        long windowMs = settings.longValue(prefix + "load.window.ms", defaults == null
                ? PoolSettings.DEFAULT_LOAD_WINDOW_MS : defaults.loadWindowMs(), LoadWindows.BUCKET_MS,
                LoadWindows.MAX_WINDOW_MS);
        return new PoolSettings(hashKey, factor, windowMs);
    }

    private static AdminToken adminToken(Settings settings) {
        String token = settings.raw("admin.token");
        if (token == null) {
            return null;
        }
        if (token.length() < AdminToken.MIN_LENGTH) {
            // The value is a secret: name its length, never the value.
            settings.addProblem("admin.token has " + token.length() + " characters; set at least "
                    + AdminToken.MIN_LENGTH + " random characters, such as the output of 'openssl rand -hex 24', "
                    + "or remove the key to disable the admin endpoints");
            return null;
        }
        return new AdminToken(token);
    }

    private static void checkApplicationServer(Settings settings, String restHost, String applicationServer) {
        if (applicationServer == null) {
            if (restHost.equals("0.0.0.0") || restHost.equals("::") || restHost.equals("[::]")) {
                settings.addProblem("application.server is not set and rest.host=" + restHost + " is a wildcard "
                        + "address that other instances cannot call; set application.server to the host:port at "
                        + "which other instances reach this one, such as routing-1.internal:8081");
            }
            return;
        }
        int colon = applicationServer.lastIndexOf(':');
        boolean valid = colon > 0 && colon < applicationServer.length() - 1;
        if (valid) {
            try {
                int port = Integer.parseInt(applicationServer.substring(colon + 1));
                valid = port > 0 && port <= 65_535;
            } catch (NumberFormatException e) {
                valid = false;
            }
        }
        if (!valid) {
            settings.addProblem("application.server=" + applicationServer + " is not accepted; accepted: host:port "
                    + "with a port from 1 to 65535, such as routing-1.internal:8081");
        }
    }

    /** Returns {@link #applicationServer()}, or {@code rest.host:boundPort} when it is not set. */
    public String applicationServerOr(int boundRestPort) {
        if (applicationServer != null) {
            return applicationServer;
        }
        String host = restHost.contains(":") && !restHost.startsWith("[") ? "[" + restHost + "]" : restHost;
        return host + ":" + boundRestPort;
    }

    private static Path stateDirOrTemporary(String stateDir) {
        if (stateDir != null) {
            return Path.of(stateDir);
        }
        try {
            return Files.createTempDirectory("backbone-routing-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary state directory; set state.dir", e);
        }
    }

    /**
     * Returns the Kafka Streams configuration: ids, state directory, commit interval, the dead-letter exception
     * handlers, the handler that skips output records too large for Kafka, explicit naming of every internal topic enforced, and the {@code kafka.*} properties on top.
     */
    public Properties streamsProperties() {
        var props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, numStreamThreads);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs);
        props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterExceptionHandler.class);
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterExceptionHandler.class);
        props.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, OversizedRecordHandler.class);
        props.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, true);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), fetchMaxWaitMs);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), (int) sessionTimeoutMs);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), (int) Math.min(3_000, sessionTimeoutMs / 3));
        props.put(StreamsConfig.producerPrefix(ProducerConfig.ACKS_CONFIG), "all");
        // Kafka Streams lingers 100 ms by default, which would add up to 100 ms to every routed request.
        props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 2);
        return kafkaClient.applyTo(props);
    }

    /** Reads {@code trace.retention.ms}: 0 stores no routing traces, else 1000 to 86400000 ms (default 600000). */
    private static long traceRetentionMs(Settings settings) {
        String value = settings.raw("trace.retention.ms");
        if (value == null) {
            return 600_000;
        }
        try {
            long parsed = Long.parseLong(value.trim());
            if (parsed == 0 || parsed >= 1_000 && parsed <= 86_400_000) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // Reported below with the accepted values.
        }
        settings.addProblem("trace.retention.ms=" + value + " is not accepted; accepted: 0 to store no routing traces, "
                + "or an integer from 1000 to 86400000");
        return 600_000;
    }
}
