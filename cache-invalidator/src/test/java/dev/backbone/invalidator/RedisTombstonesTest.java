package dev.backbone.invalidator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Invalidation;
import dev.backbone.events.Json;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Runs against the real Redis server at 127.0.0.1:6379 and skips when none replies. */
class RedisTombstonesTest {

    private static final long NOW_MS = 1_700_000_001_000L;
    private static final long TTL_MS = 60_000;

    private TestRedis redis;
    private SimpleMeterRegistry registry;
    private RedisTombstones tombstones;

    @BeforeEach
    void connect() {
        redis = TestRedis.connectOrSkip();
        registry = new SimpleMeterRegistry();
        var config = new RedisInvalidatorConfig(TestRedis.URI, redis.keyPrefix(), TTL_MS, 2_000);
        tombstones = RedisTombstones.connect(config, Clock.fixed(Instant.ofEpochMilli(NOW_MS), ZoneOffset.UTC),
                new InvalidatorMetrics(registry, CacheInvalidatorConfig.DEFAULT_TABLES));
    }

    @AfterEach
    void cleanUp() {
        if (tombstones != null) {
            tombstones.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void writesTombstoneWithTtl() throws Exception {
        redis.commands().set(key("product:42"), "{\"version\": 3, \"name\": \"Lamp\"}");

        tombstones.write(List.of(invalidation("product:42", 4)));

        JsonNode tombstone = Json.mapper().readTree(redis.commands().get(key("product:42")));
        assertThat(tombstone.path("tombstone").asBoolean()).isTrue();
        assertThat(tombstone.path("invalidatedVersion").asLong()).isEqualTo(4);
        assertThat(tombstone.path("atMs").asLong()).isEqualTo(NOW_MS);
        assertThat(redis.commands().pttl(key("product:42"))).isBetween(1L, TTL_MS);
        assertThat(registry.get(InvalidatorMetrics.TOMBSTONES).tag("result", "written").counter().count()).isEqualTo(1);
    }

    @Test
    void keepsNewerFilledEntry() {
        String newer = "{\"version\": 5, \"name\": \"Desk lamp\"}";
        redis.commands().set(key("product:42"), newer);

        tombstones.write(List.of(invalidation("product:42", 4)));

        assertThat(redis.commands().get(key("product:42"))).isEqualTo(newer);
        assertThat(registry.get(InvalidatorMetrics.TOMBSTONES).tag("result", "kept.newer").counter().count()).isEqualTo(1);
    }

    @Test
    void replayedOlderInvalidationKeepsNewerTombstone() throws Exception {
        tombstones.write(List.of(invalidation("product:42", 6)));
        tombstones.write(List.of(invalidation("product:42", 5)));

        JsonNode tombstone = Json.mapper().readTree(redis.commands().get(key("product:42")));
        assertThat(tombstone.path("invalidatedVersion").asLong()).isEqualTo(6);
    }

    @Test
    void unknownVersionAlwaysWritesTombstone() throws Exception {
        redis.commands().set(key("category:7"), "{\"version\": 99}");

        tombstones.write(List.of(invalidation("category:7", -1)));

        JsonNode tombstone = Json.mapper().readTree(redis.commands().get(key("category:7")));
        assertThat(tombstone.path("invalidatedVersion").asLong()).isEqualTo(-1);
        assertThat(tombstone.path("tombstone").asBoolean()).isTrue();
    }

    @Test
    void unreadableEntryIsReplaced() throws Exception {
        redis.commands().set(key("asset:/img/🦊.png"), "not json");

        tombstones.write(List.of(invalidation("asset:/img/🦊.png", 2)));

        JsonNode tombstone = Json.mapper().readTree(redis.commands().get(key("asset:/img/🦊.png")));
        assertThat(tombstone.path("invalidatedVersion").asLong()).isEqualTo(2);
    }

    private String key(String cacheKey) {
        return redis.keyPrefix() + cacheKey;
    }

    private static Invalidation invalidation(String cacheKey, long version) {
        return new Invalidation(Invalidation.SCHEMA_VERSION, cacheKey, version, "u", NOW_MS - 20, NOW_MS - 10);
    }
}
