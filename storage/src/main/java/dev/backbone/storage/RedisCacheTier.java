package dev.backbone.storage;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.backbone.events.Json;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared L2 cache tier in Redis, whose fills are compare-and-set Lua scripts that reject values older than an
 * invalidation, so that a slow read cannot put back a value that a write replaced or deleted.
 *
 * <h2>Layout</h2>
 * The Redis key of cache key {@code K} (such as {@code product:42}) is {@code <keyPrefix>K}, with the prefix
 * {@link #DEFAULT_KEY_PREFIX} in production: {@code backbone:cache:product:42}. The value is JSON, one of
 * <ul>
 *   <li>a filled entry {@code {"version": V, "value": {...}}}: the row read at version {@code V}, expiring after
 *       {@link RedisTierConfig#entryTtl()};</li>
 *   <li>a negative entry {@code {"version": 0, "absent": true}}: no row had this key when it was read, expiring after
 *       {@link RedisTierConfig#negativeTtl()}; rows start at version 1, so any fill of a row replaces it;</li>
 *   <li>a tombstone {@code {"tombstone": true, "invalidatedVersion": V, "atMs": T}}, written by the cache invalidator
 *       for every committed change and by {@link #writeTombstone} after this server's own writes: {@code V} is the
 *       row version after the change, or -1 when unknown (a delete, a table without versions), and {@code T} is when it
 *       was written, epoch milliseconds. A read treats a tombstone as a miss.</li>
 * </ul>
 *
 * <h2>Fill rules</h2>
 * A fill carries the row version it read and its lease time: the wall-clock time when its read began, before it
 * looked at Redis or the database, minus {@link RedisTierConfig#leaseMargin()}. {@link #FILL_SCRIPT} rejects the
 * fill, atomically with the read of the current value, when the current value is
 * <ol>
 *   <li>a tombstone with {@code invalidatedVersion >= 0} above the fill's version: the fill read a row older than
 *       the change;</li>
 *   <li>a tombstone with {@code invalidatedVersion = -1} whose {@code atMs} is at or after the lease time: the read may
 *       have begun before the change, whatever version it read;</li>
 *   <li>a tombstone without a numeric {@code invalidatedVersion}, which is rejected to be safe; or</li>
 *   <li>a filled entry whose version is above the fill's.</li>
 * </ol>
 * A fill at exactly the version of a tombstone is accepted, because that tombstone announces this very version as
 * current. A value that is not JSON is overwritten. Rule 2 compares the invalidator's clock with this server's, so
 * the lease margin must cover the clock skew between them.
 *
 * <p>NOTE: versions restart at 1 when a deleted row is inserted again with the same id, so a slow read of the old row
 * at a higher version passes rule 1 once the insert's tombstone replaced the delete's. Product ids come from a
 * sequence and are not reused through the API.
 *
 * <p>Thread-safe: one multiplexed connection serves every caller. Commands throw {@link RedisException} (a timeout
 * included) when Redis fails; callers treat that as a miss and read the database. {@link #close()} closes the
 * connection and the client.
 */
public final class RedisCacheTier implements AutoCloseable {

    /** The prefix of every L2 key in production, shared with the cache invalidator. */
    public static final String DEFAULT_KEY_PREFIX = "backbone:cache:";

    private static final Logger log = LoggerFactory.getLogger(RedisCacheTier.class);

    /** The outcome of a fill. */
    public enum FillResult {
        STORED,
        /** Rejected by a tombstone: an invalidation of the key is newer than the read. */
        REFUSED_BY_TOMBSTONE,
        /** Rejected because Redis contains a newer version already. */
        REFUSED_BY_NEWER_ENTRY
    }

    /**
     * KEYS[1] the Redis key; ARGV[1] the entry JSON, ARGV[2] the fill's version, ARGV[3] the lease time in epoch ms,
     * ARGV[4] the TTL in ms. Returns 1 when stored, 0 when rejected by a tombstone, -1 when rejected by a newer entry.
     */
    static final String FILL_SCRIPT = """
            local current = redis.call('GET', KEYS[1])
            if current then
              local ok, entry = pcall(cjson.decode, current)
              if ok and type(entry) == 'table' then
                local fillVersion = tonumber(ARGV[2])
                if entry['tombstone'] == true then
                  local invalidated = tonumber(entry['invalidatedVersion'])
                  if invalidated == nil then
                    return 0
                  end
                  if invalidated >= 0 and fillVersion < invalidated then
                    return 0
                  end
                  if invalidated < 0 then
                    local atMs = tonumber(entry['atMs'])
                    if atMs == nil or atMs >= tonumber(ARGV[3]) then
                      return 0
                    end
                  end
                else
                  local held = tonumber(entry['version'])
                  if held and held > fillVersion then
                    return -1
                  end
                end
              end
            end
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
            return 1
            """;

    /**
     * The cache invalidator's rule, for this server's own writes: KEYS[1] the Redis key; ARGV[1] the tombstone JSON,
     * ARGV[2] the invalidated version, ARGV[3] the TTL in ms. Keeps a filled entry or tombstone at least as new as a
     * known version; a tombstone of unknown version (-1) is always written. Returns 1 when written, 0 when kept.
     */
    static final String TOMBSTONE_SCRIPT = """
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
    private final RedisTierConfig config;
    private final String entryTtlMs;
    private final String negativeTtlMs;
    private final String tombstoneTtlMs;
    private final LongAdder unreadableEntries = new LongAdder();
    private volatile String fillDigest;
    private volatile String tombstoneDigest;
    private boolean closed;

    private RedisCacheTier(RedisClient client, StatefulRedisConnection<String, String> connection, RedisTierConfig config) {
        this.client = client;
        this.connection = connection;
        this.config = config;
        this.entryTtlMs = Long.toString(config.entryTtl().toMillis());
        this.negativeTtlMs = Long.toString(config.negativeTtl().toMillis());
        this.tombstoneTtlMs = Long.toString(config.tombstoneTtl().toMillis());
    }

    /**
     * Connects to Redis and loads the scripts.
     *
     * @throws IllegalStateException when Redis cannot be reached, naming host and port but no credentials; check
     *                               the URI and that Redis runs
     */
    public static RedisCacheTier connect(RedisTierConfig config) {
        Objects.requireNonNull(config, "config");
        RedisURI uri = RedisURI.create(config.uri());
        uri.setTimeout(config.commandTimeout());
        RedisClient client = RedisClient.create(uri);
        client.setOptions(ClientOptions.builder()
                .timeoutOptions(TimeoutOptions.enabled(config.commandTimeout()))
                // Fail at once while disconnected, so that reads fall back to the database instead of queueing.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .build());
        try {
            StatefulRedisConnection<String, String> connection = client.connect();
            var tier = new RedisCacheTier(client, connection, config);
            tier.loadScripts();
            log.info("L2 cache tier connected to Redis at {} with key prefix {}", RedisTierConfig.withoutCredentials(config.uri()),
                    config.keyPrefix());
            return tier;
        } catch (RedisException e) {
            client.shutdown();
            throw new IllegalStateException("cannot connect to Redis at " + RedisTierConfig.withoutCredentials(config.uri())
                    + ": " + e.getMessage(), e);
        }
    }

    public RedisTierConfig config() {
        return config;
    }

    /** Returns the Redis key of a cache key, such as {@code backbone:cache:product:42}. */
    public String redisKey(String cacheKey) {
        return config.keyPrefix() + cacheKey;
    }

    /**
     * Reads a cache key: a value decoded as {@code type}, a negative entry, or a miss for nothing, a tombstone or an
     * entry that cannot be decoded.
     *
     * @throws RedisException when Redis fails or times out
     */
    public <V> CacheLookup<V> get(String cacheKey, Class<V> type) {
        String stored = connection.sync().get(redisKey(cacheKey));
        if (stored == null) {
            return CacheLookup.miss();
        }
        return decode(cacheKey, stored, type);
    }

    /**
     * Stores a value read at {@code version} by a read that began at {@code leaseTimeMs}, unless the fill rules of the
     * class documentation reject it.
     *
     * @throws RedisException when Redis fails or times out; nothing is stored then
     */
    public FillResult fill(String cacheKey, Object value, long version, long leaseTimeMs) {
        Objects.requireNonNull(value, "value");
        ObjectNode entry = Json.mapper().createObjectNode();
        entry.put("version", version);
        entry.set("value", Json.mapper().valueToTree(value));
        return runFill(cacheKey, entry.toString(), version, leaseTimeMs, entryTtlMs);
    }

    /**
     * Stores a negative entry for a key whose row was not found by a read that began at {@code leaseTimeMs}, under
     * the same rules. Stores nothing and returns {@link FillResult#STORED} when the negative TTL is zero.
     *
     * @throws RedisException when Redis fails or times out
     */
    public FillResult fillAbsent(String cacheKey, long leaseTimeMs) {
        if (config.negativeTtl().isZero()) {
            return FillResult.STORED;
        }
        ObjectNode entry = Json.mapper().createObjectNode();
        entry.put("version", CacheLookup.ABSENT_VERSION);
        entry.put("absent", true);
        return runFill(cacheKey, entry.toString(), CacheLookup.ABSENT_VERSION, leaseTimeMs, negativeTtlMs);
    }

    /**
     * Writes a tombstone the way the cache invalidator does, for a change this server committed itself, so that
     * other servers stop reading the old value from Redis before the invalidator catches up.
     *
     * @param invalidatedVersion the row version after the change, or -1 when unknown (a delete)
     * @param atMs               the time of the change, epoch milliseconds
     * @return {@code true} when written, {@code false} when Redis contains a newer entry or tombstone
     * @throws RedisException when Redis fails or times out
     */
    public boolean writeTombstone(String cacheKey, long invalidatedVersion, long atMs) {
        String tombstone = tombstoneJson(invalidatedVersion, atMs);
        Long written = evalWithReload(true, redisKey(cacheKey), tombstone, Long.toString(invalidatedVersion), tombstoneTtlMs);
        return written != null && written == 1;
    }

    /** Returns the tombstone JSON of the layout above. */
    public static String tombstoneJson(long invalidatedVersion, long atMs) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("tombstone", true);
        node.put("invalidatedVersion", invalidatedVersion);
        node.put("atMs", atMs);
        return node.toString();
    }

    /** Returns how many stored values could not be decoded and were read as misses. */
    public long unreadableEntries() {
        return unreadableEntries.sum();
    }

    /** Closes the connection and shuts the client down. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        connection.close();
        client.shutdown(0, 2, TimeUnit.SECONDS);
        log.info("L2 cache tier disconnected from Redis");
    }

    private FillResult runFill(String cacheKey, String entry, long version, long leaseTimeMs, String ttlMs) {
        long effectiveLeaseMs = leaseTimeMs - config.leaseMargin().toMillis();
        Long result = evalWithReload(false, redisKey(cacheKey), entry, Long.toString(version),
                Long.toString(effectiveLeaseMs), ttlMs);
        if (result == null || result == 0) {
            return FillResult.REFUSED_BY_TOMBSTONE;
        }
        return result == 1 ? FillResult.STORED : FillResult.REFUSED_BY_NEWER_ENTRY;
    }

    private Long evalWithReload(boolean tombstone, String key, String... arguments) {
        RedisCommands<String, String> commands = connection.sync();
        String[] keys = {key};
        try {
            return commands.evalsha(tombstone ? tombstoneDigest : fillDigest, ScriptOutputType.INTEGER, keys, arguments);
        } catch (RedisNoScriptException e) {
            // Redis restarted or its script cache was flushed: load the scripts again and retry once.
            loadScripts();
            return commands.evalsha(tombstone ? tombstoneDigest : fillDigest, ScriptOutputType.INTEGER, keys, arguments);
        }
    }

    private void loadScripts() {
        RedisCommands<String, String> commands = connection.sync();
        fillDigest = commands.scriptLoad(FILL_SCRIPT);
        tombstoneDigest = commands.scriptLoad(TOMBSTONE_SCRIPT);
    }

    private <V> CacheLookup<V> decode(String cacheKey, String stored, Class<V> type) {
        try {
            JsonNode entry = Json.mapper().readTree(stored);
            if (entry == null || !entry.isObject() || entry.path("tombstone").asBoolean(false)) {
                return CacheLookup.miss();
            }
            if (entry.path("absent").asBoolean(false)) {
                return CacheLookup.absent();
            }
            JsonNode version = entry.get("version");
            JsonNode value = entry.get("value");
            if (version == null || !version.canConvertToLong() || value == null || !value.isObject()) {
                throw new IllegalArgumentException("entry has no integer version or no value object");
            }
            return CacheLookup.value(Json.mapper().treeToValue(value, type), version.asLong());
        } catch (JsonProcessingException | IllegalArgumentException e) {
            // The next fill overwrites it: an entry that is not a tombstone and has no higher version does not block.
            unreadableEntries.increment();
            log.debug("Cannot decode the L2 entry of {} as {}; reading it as a miss: {}", cacheKey, type.getSimpleName(),
                    e.getMessage());
            return CacheLookup.miss();
        }
    }
}
