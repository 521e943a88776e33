package dev.backbone.storage;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.UUID;

/**
 * The Redis server at 127.0.0.1:6379 for tests, with a key prefix of its own per instance so that test runs never see
 * each other's keys. {@link #close()} deletes every key under the prefix.
 *
 * <p>Without a Redis answering PING the calling test is skipped with a message, unless the system property
 * {@value #REQUIRED_PROPERTY} is {@code true}: then it fails, so that CI cannot pass without running it.
 */
public final class TestRedis implements AutoCloseable {

    public static final String URI = "redis://127.0.0.1:6379";
    public static final String REQUIRED_PROPERTY = "backbone.redis.required";

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final String keyPrefix = "backbone-test:" + UUID.randomUUID() + ":cache:";

    private TestRedis(RedisClient client, StatefulRedisConnection<String, String> connection) {
        this.client = client;
        this.connection = connection;
    }

    /** Connects, or skips (fails when Redis is required) when no Redis answers PING. */
    public static TestRedis connectOrSkip() {
        RedisURI uri = RedisURI.create(URI);
        uri.setTimeout(Duration.ofSeconds(2));
        RedisClient client = RedisClient.create(uri);
        try {
            StatefulRedisConnection<String, String> connection = client.connect();
            connection.sync().ping();
            return new TestRedis(client, connection);
        } catch (RedisException e) {
            client.shutdown();
            String message = "No Redis answers PING at " + URI + " (" + e.getMessage() + "); start redis-server";
            if (Boolean.getBoolean(REQUIRED_PROPERTY)) {
                throw new IllegalStateException(message + ". " + REQUIRED_PROPERTY + "=true makes this a failure", e);
            }
            assumeTrue(false, message + " to run this test, or set -D" + REQUIRED_PROPERTY + "=true to fail instead");
            throw e;
        }
    }

    public String keyPrefix() {
        return keyPrefix;
    }

    public RedisCommands<String, String> commands() {
        return connection.sync();
    }

    /** Returns a tier config with this instance's prefix and the given TTLs. */
    public RedisTierConfig tierConfig(Duration entryTtl, Duration negativeTtl, Duration leaseMargin) {
        return new RedisTierConfig(URI, keyPrefix, entryTtl, negativeTtl, Duration.ofMinutes(1), Duration.ofSeconds(2),
                leaseMargin);
    }

    @Override
    public void close() {
        RedisCommands<String, String> commands = connection.sync();
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            KeyScanCursor<String> page = commands.scan(cursor, ScanArgs.Builder.matches(keyPrefix + "*").limit(500));
            if (!page.getKeys().isEmpty()) {
                commands.del(page.getKeys().toArray(String[]::new));
            }
            cursor = page;
        } while (!cursor.isFinished());
        connection.close();
        client.shutdown();
    }
}
