package dev.backbone.invalidator;

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
 */
final class TestRedis implements AutoCloseable {

    static final String URI = "redis://127.0.0.1:6379";
    static final String SKIP_MESSAGE = "No Redis server replies to PING at " + URI + "; start redis-server to run this test";

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final String keyPrefix = "backbone-test:" + UUID.randomUUID() + ":cache:";

    private TestRedis(RedisClient client, StatefulRedisConnection<String, String> connection) {
        this.client = client;
        this.connection = connection;
    }

    /** Connects, or skips the calling test with a message when no Redis server replies to PING. */
    static TestRedis connectOrSkip() {
        TestRedis redis = connectIfAvailable();
        assumeTrue(redis != null, SKIP_MESSAGE);
        return redis;
    }

    /** Connects, or returns {@code null} when no Redis server replies to PING. */
    static TestRedis connectIfAvailable() {
        RedisURI uri = RedisURI.create(URI);
        uri.setTimeout(Duration.ofSeconds(2));
        RedisClient client = RedisClient.create(uri);
        try {
            StatefulRedisConnection<String, String> connection = client.connect();
            connection.sync().ping();
            return new TestRedis(client, connection);
        } catch (RedisException e) {
            client.shutdown();
            return null;
        }
    }

    String keyPrefix() {
        return keyPrefix;
    }

    RedisCommands<String, String> commands() {
        return connection.sync();
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
