package dev.backbone.routing;

import dev.backbone.events.Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
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
 * @param commitIntervalMs            Kafka Streams commit interval ({@code commit.interval.ms}, default 100)
 * @param fetchMaxWaitMs              consumer {@code fetch.max.wait.ms} ({@code fetch.max.wait.ms}, default 500); tests
 *                                    set it low
 * @param lbAddresses                 load-balancer addresses this instance sends heartbeats for ({@code lb.addresses},
 *                                    comma-separated, default {@code lb-1,lb-2})
 * @param lbPool                      the app-server pool those load balancers front ({@code lb.pool}, default
 *                                    {@code shop})
 * @param lbHeartbeatIntervalMs       interval of the load-balancer heartbeats ({@code lb.heartbeat.interval.ms},
 *                                    default 1000); 0 sends none
 * @param heartbeatTimeoutMs          a sender whose last heartbeat is this old is dead ({@code heartbeat.timeout.ms},
 *                                    default 3000)
 * @param dnsNegativeTtlMs            how long a client caches an unknown-host answer ({@code dns.negative.ttl.ms},
 *                                    default 5000; 0 does not cache it)
 * @param dnsCacheMaxEntriesPerClient names one client's DNS cache holds before the entry closest to expiry is
 *                                    evicted ({@code dns.cache.max.entries.per.client}, default 100)
 * @param dnsCachePurgeIntervalMs     wall-clock interval of the punctuator that deletes expired client DNS cache
 *                                    entries ({@code dns.cache.purge.interval.ms}, default 1000)
 * @param hashKey                     what the load balancer hashes to choose an app server ({@code lb.hash.key},
 *                                    {@code client} (default) or {@code path})
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
 */
public record RoutingConfig(
        String bootstrapServers,
        String applicationId,
        Path stateDir,
        int numStreamThreads,
        long commitIntervalMs,
        int fetchMaxWaitMs,
        List<String> lbAddresses,
        String lbPool,
        long lbHeartbeatIntervalMs,
        long heartbeatTimeoutMs,
        long dnsNegativeTtlMs,
        int dnsCacheMaxEntriesPerClient,
        long dnsCachePurgeIntervalMs,
        HashKey hashKey,
        int maglevTableSize,
        boolean createTopics,
        short topicReplicationFactor,
        String restHost,
        int restPort,
        String applicationServer,
        AdminToken adminToken) {

    public static final String SERVICE_NAME = "routing-streams";
    public static final String DEFAULT_APPLICATION_ID = "backbone-routing";
    public static final String DEFAULT_REST_HOST = "127.0.0.1";
    public static final int DEFAULT_REST_PORT = 8081;

    /** The value the load balancer hashes to choose an app server. */
    public enum HashKey {
        /** The client id: a client stays on one app server while the pool is unchanged (session affinity). */
        CLIENT,
        /** The request path: a resource stays on one app server, so its cache entry lives in one place. */
        PATH;

        /** Returns the configuration value, {@code client} or {@code path}. */
        public String configValue() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public RoutingConfig {
        lbAddresses = List.copyOf(lbAddresses);
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
        long commitIntervalMs = settings.longValue("commit.interval.ms", 100, 1, 600_000);
        int fetchMaxWaitMs = settings.integer("fetch.max.wait.ms", 500, 0, 60_000);
        List<String> lbAddresses = settings.list("lb.addresses", List.of("lb-1", "lb-2"));
        String lbPool = settings.string("lb.pool", "shop");
        long lbHeartbeatIntervalMs = settings.longValue("lb.heartbeat.interval.ms", 1_000, 0, 600_000);
        long heartbeatTimeoutMs = settings.longValue("heartbeat.timeout.ms", 3_000, 1, 3_600_000);
        long dnsNegativeTtlMs = settings.longValue("dns.negative.ttl.ms", 5_000, 0, 86_400_000);
        int maxEntriesPerClient = settings.integer("dns.cache.max.entries.per.client", 100, 1, 100_000);
        long purgeIntervalMs = settings.longValue("dns.cache.purge.interval.ms", 1_000, 1, 3_600_000);
        String hashKey = settings.oneOf("lb.hash.key", "client", List.of("client", "path"));
        int maglevTableSize = settings.integer("maglev.table.size", Maglev.DEFAULT_TABLE_SIZE, 3, Maglev.MAX_TABLE_SIZE);
        boolean createTopics = settings.bool("topics.create", true);
        int replicationFactor = settings.integer("topics.replication.factor", 1, 1, Short.MAX_VALUE);
        String restHost = settings.string("rest.host", DEFAULT_REST_HOST);
        int restPort = settings.integer("rest.port", DEFAULT_REST_PORT, 0, 65_535);
        String applicationServer = settings.string("application.server", null);
        AdminToken adminToken = adminToken(settings);

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
        checkApplicationServer(settings, restHost, applicationServer);
        settings.requireValid(SERVICE_NAME);

        return new RoutingConfig(bootstrapServers, applicationId, stateDirOrTemporary(stateDir), numStreamThreads,
                commitIntervalMs, fetchMaxWaitMs, lbAddresses, lbPool, lbHeartbeatIntervalMs, heartbeatTimeoutMs,
                dnsNegativeTtlMs, maxEntriesPerClient, purgeIntervalMs, HashKey.valueOf(hashKey.toUpperCase(Locale.ROOT)),
                maglevTableSize, createTopics, (short) replicationFactor, restHost, restPort, applicationServer,
                adminToken);
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
     * handlers, and explicit naming of every internal topic enforced.
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
        props.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, true);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), fetchMaxWaitMs);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.ACKS_CONFIG), "all");
        // Kafka Streams lingers 100 ms by default, which would add up to 100 ms to every routed request.
        props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 2);
        return props;
    }
}
