package dev.backbone.invalidator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.backbone.events.Invalidation;
import dev.backbone.events.Json;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces the Redis L2 entry of every invalidated cache key with a tombstone that blocks fills older than the change.
 *
 * <h2>Contract with the app servers' L2 cache</h2>
 * <ul>
 *   <li>The Redis key of cache key {@code K} is {@code backbone:cache:K}, such as {@code backbone:cache:product:42}
 *       ({@link #DEFAULT_KEY_PREFIX}; {@code redis.key.prefix} changes the prefix).</li>
 *   <li>A filled entry is a JSON object with an integer {@code version} field: the row version it was read at.</li>
 *   <li>A tombstone is {@code {"invalidatedVersion": V, "tombstone": true, "atMs": T}}: {@code V} is the row version
 *       after the change, or -1 when unknown (deletes, categories, assets, accounts), and {@code T} is when the
 *       invalidator wrote it, epoch milliseconds. It expires after {@code redis.tombstone.ttl.ms}.</li>
 *   <li>A fill must compare and set atomically (a Lua script or {@code WATCH}): it may replace a tombstone only when
 *       {@code V >= 0} and the fill's version is at least {@code V}, or when {@code V = -1} and the fill read the
 *       database after {@code T}. It may replace a filled entry only with a higher version.</li>
 *   <li>The invalidator writes a tombstone unless the key contains a filled entry or a tombstone with a version at least
 *       the invalidation's {@code V}: a replayed, older invalidation then neither removes a newer entry nor weakens a
 *       newer tombstone. An invalidation with {@code V = -1} always writes its tombstone.</li>
 * </ul>
 * Tombstones are written before the invalidation is published to {@code backbone.cache-invalidations}, so an app
 * server that evicts its L1 entry and reads L2 next finds the tombstone, not the old value.
 *
 * <p>Used by the change event consumer thread only. {@link #write(List)} retries while Redis is unreachable, so a
 * Redis outage delays invalidations rather than losing any.
 */
final class RedisTombstones implements AutoCloseable {

    /** The prefix of every L2 cache key in Redis. */
    static final String DEFAULT_KEY_PREFIX = "backbone:cache:";

    private static final Logger log = LoggerFactory.getLogger(RedisTombstones.class);
    private static final long MAX_BACKOFF_MS = 2_000;
    private static final long WARNING_INTERVAL_MS = 30_000;

    /**
     * KEYS[1] the Redis key; ARGV[1] the tombstone JSON, ARGV[2] the invalidated version, ARGV[3] the TTL in ms.
     * Returns 1 when the tombstone was written, 0 when a newer entry or tombstone was kept.
     */
    static final String SCRIPT = """
            local version = tonumber(ARGV[2])
            if version >= 0 then
              local current = redis.call('GET', KEYS[1])
              if current then
                local ok, entry = pcall(cjson.decode, current)
                if ok and type(entry) == 'table' then
                  local held = tonumber(entry['invalidatedVersion']) or tonumber(entry['version'])
                  if held and held >= version then
                    return 0
                  end
                end
              end
            end
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
            return 1
            """;

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final RedisInvalidatorConfig config;
    private final Clock clock;
    private final InvalidatorMetrics metrics;
    private String scriptDigest;
    private long lastWarningMs;
    private long failuresSinceWarning;
    private volatile boolean closing;
    private boolean closed;

    private RedisTombstones(RedisClient client, StatefulRedisConnection<String, String> connection,
            RedisInvalidatorConfig config, Clock clock, InvalidatorMetrics metrics) {
        this.client = client;
        this.connection = connection;
        this.config = config;
        this.clock = clock;
        this.metrics = metrics;
    }

    /**
     * Connects to Redis and loads the script.
     *
     * @throws IllegalStateException when Redis cannot be reached, naming the URI without credentials
     */
    static RedisTombstones connect(RedisInvalidatorConfig config, Clock clock, InvalidatorMetrics metrics) {
        RedisURI uri = RedisURI.create(config.uri());
        RedisClient client = RedisClient.create(uri);
        client.setOptions(ClientOptions.builder()
                .timeoutOptions(TimeoutOptions.enabled(Duration.ofMillis(config.timeoutMs())))
                // Fail fast while disconnected, so that write() retries instead of queueing without bound.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .build());
        try {
            StatefulRedisConnection<String, String> connection = client.connect();
            var tombstones = new RedisTombstones(client, connection, config, clock, metrics);
            tombstones.scriptDigest = connection.sync().scriptLoad(SCRIPT);
            // The digest is null again when Redis reports NOSCRIPT, and writeOnce() loads the script before using it.
            log.info("Writing L2 tombstones to Redis at {}:{} with key prefix {} and TTL {} ms",
                    uri.getHost(), uri.getPort(), config.keyPrefix(), config.tombstoneTtlMs());
            return tombstones;
        } catch (RedisException e) {
            client.shutdown();
            throw new IllegalStateException("cannot connect to Redis at " + uri.getHost() + ":" + uri.getPort()
                    + " (redis.uri): " + e.getMessage(), e);
        }
    }

    /**
     * Writes the tombstones of one batch, pipelined, and waits for every reply. Retries with backoff
     * while Redis fails, logging a rate-limited warning.
     *
     * @throws IllegalStateException when closed while retrying, so that the caller does not commit the batch
     */
    void write(List<Invalidation> invalidations) {
        if (invalidations.isEmpty()) {
            return;
        }
        long backoffMs = 50;
        boolean reloaded = false;
        while (true) {
            try {
                writeOnce(invalidations);
                return;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RedisNoScriptException && !reloaded) {
                    // Redis restarted or its script cache was flushed: load the script again and retry at once.
                    scriptDigest = null;
                    reloaded = true;
                    continue;
                }
                warnRateLimited(invalidations.size(), e);
            } catch (RedisException | TimeoutException e) {
                warnRateLimited(invalidations.size(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while writing L2 tombstones to Redis", e);
            }
            if (closing) {
                throw new IllegalStateException("closed while Redis was failing; the batch is not committed and is replayed");
            }
            sleepBackoff(backoffMs);
            backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
        }
    }

    private void writeOnce(List<Invalidation> invalidations)
            throws InterruptedException, ExecutionException, TimeoutException {
        if (scriptDigest == null) {
            scriptDigest = connection.sync().scriptLoad(SCRIPT);
        }
        RedisAsyncCommands<String, String> commands = connection.async();
        long nowMs = clock.millis();
        String ttl = Long.toString(config.tombstoneTtlMs());
        List<RedisFuture<Long>> replies = new ArrayList<>(invalidations.size());
        for (Invalidation invalidation : invalidations) {
            String[] keys = {config.keyPrefix() + invalidation.cacheKey()};
            replies.add(commands.evalsha(scriptDigest, ScriptOutputType.INTEGER, keys,
                    tombstone(invalidation.version(), nowMs), Long.toString(invalidation.version()), ttl));
        }
        for (RedisFuture<Long> reply : replies) {
            Long written = reply.get(config.timeoutMs(), TimeUnit.MILLISECONDS);
            if (written != null && written == 1) {
                metrics.tombstoneWritten();
            } else {
                metrics.tombstoneSkipped();
            }
        }
    }

    /** Returns the tombstone JSON of the contract above. */
    static String tombstone(long invalidatedVersion, long atMs) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("invalidatedVersion", invalidatedVersion);
        node.put("tombstone", true);
        node.put("atMs", atMs);
        try {
            return Json.mapper().writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a tombstone as JSON", e);
        }
    }

    private void warnRateLimited(int batchSize, Exception error) {
        failuresSinceWarning++;
        long nowMs = clock.millis();
        if (lastWarningMs != 0 && nowMs - lastWarningMs < WARNING_INTERVAL_MS) {
            return;
        }
        log.warn("Cannot write {} L2 tombstones to Redis ({} failures since the last warning), retrying; invalidations "
                        + "wait until Redis answers. Check redis.uri and the Redis server: {}",
                batchSize, failuresSinceWarning, error.toString());
        lastWarningMs = nowMs;
        failuresSinceWarning = 0;
    }

    private static void sleepBackoff(long backoffMs) {
        try {
            // A retry backoff in production code, not a wait in a test.
            TimeUnit.MILLISECONDS.sleep(backoffMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting to retry Redis", e);
        }
    }

    /** Makes a retrying {@link #write(List)} give up; called from any thread before {@link #close()}. */
    void stopRetrying() {
        closing = true;
    }

    /** Closes the connection and the client. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closing = true;
        connection.close();
        client.shutdown();
    }
}
