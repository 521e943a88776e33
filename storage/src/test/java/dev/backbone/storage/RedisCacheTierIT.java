package dev.backbone.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The L2 layout and the fill script's rules, against the Redis server at 127.0.0.1:6379. */
class RedisCacheTierIT {

    private static final String KEY = "product:42";
    private static final long LEASE_MS = 1_700_000_000_000L;

    private TestRedis redis;
    private RedisCacheTier tier;

    @BeforeEach
    void connect() {
        redis = TestRedis.connectOrSkip();
        tier = RedisCacheTier.connect(redis.tierConfig(Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ZERO));
    }

    @AfterEach
    void disconnect() {
        if (tier != null) {
            tier.close();
            tier.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void fillIsStoredUnderPrefixedKey() throws Exception {
        assertThat(tier.fill(KEY, product(3), 3, LEASE_MS)).isEqualTo(RedisCacheTier.FillResult.STORED);

        JsonNode stored = Json.mapper().readTree(redis.commands().get(redis.keyPrefix() + KEY));
        assertThat(stored.get("version").asLong()).isEqualTo(3);
        assertThat(stored.get("value").get("name").asText()).isEqualTo("Lamp v3");
        assertThat(redis.commands().pttl(redis.keyPrefix() + KEY)).isBetween(1L, Duration.ofMinutes(5).toMillis());

        CacheLookup<Product> read = tier.get(KEY, Product.class);
        assertThat(read.kind()).isEqualTo(CacheLookup.Kind.VALUE);
        assertThat(read.value()).isEqualTo(product(3));
        assertThat(read.version()).isEqualTo(3);
    }

    @Test
    void tombstoneWithHigherVersionRejectsFill() {
        setTombstone(5, LEASE_MS - 10);

        assertThat(tier.fill(KEY, product(4), 4, LEASE_MS)).isEqualTo(RedisCacheTier.FillResult.REFUSED_BY_TOMBSTONE);
        assertThat(tier.get(KEY, Product.class).kind()).isEqualTo(CacheLookup.Kind.MISS);
    }

    @Test
    void tombstoneAtFillVersionAcceptsFill() {
        setTombstone(5, LEASE_MS + 10);

        assertThat(tier.fill(KEY, product(5), 5, LEASE_MS)).isEqualTo(RedisCacheTier.FillResult.STORED);
        assertThat(tier.get(KEY, Product.class).version()).isEqualTo(5);
    }

    @Test
    void unknownVersionTombstoneRejectsReadStartedBefore() {
        setTombstone(-1, LEASE_MS);

        assertThat(tier.fill(KEY, product(9), 9, LEASE_MS)).as("atMs equal to the lease time")
                .isEqualTo(RedisCacheTier.FillResult.REFUSED_BY_TOMBSTONE);
        assertThat(tier.fill(KEY, product(9), 9, LEASE_MS - 1)).isEqualTo(RedisCacheTier.FillResult.REFUSED_BY_TOMBSTONE);
        assertThat(tier.fillAbsent(KEY, LEASE_MS - 1)).isEqualTo(RedisCacheTier.FillResult.REFUSED_BY_TOMBSTONE);
    }

    @Test
    void unknownVersionTombstoneAcceptsReadStartedAfter() {
        setTombstone(-1, LEASE_MS);

        assertThat(tier.fillAbsent(KEY, LEASE_MS + 1)).isEqualTo(RedisCacheTier.FillResult.STORED);
        assertThat(tier.get(KEY, Product.class).kind()).isEqualTo(CacheLookup.Kind.ABSENT);
    }

    @Test
    void leaseMarginMovesLeaseTimeEarlier() {
        try (RedisCacheTier skewed = RedisCacheTier.connect(
                redis.tierConfig(Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofMillis(100)))) {
            setTombstone(-1, LEASE_MS);

            assertThat(skewed.fill(KEY, product(1), 1, LEASE_MS + 100)).isEqualTo(RedisCacheTier.FillResult.REFUSED_BY_TOMBSTONE);
            assertThat(skewed.fill(KEY, product(1), 1, LEASE_MS + 101)).isEqualTo(RedisCacheTier.FillResult.STORED);
        }
    }

    @Test
    void tombstoneWithoutVersionRejectsFill() {
        redis.commands().set(redis.keyPrefix() + KEY, "{\"tombstone\":true}");

        assertThat(tier.fill(KEY, product(1), 1, LEASE_MS)).isEqualTo(RedisCacheTier.FillResult.REFUSED_BY_TOMBSTONE);
    }

    @Test
    void newerEntryRejectsOlderFill() {
        tier.fill(KEY, product(7), 7, LEASE_MS);

        assertThat(tier.fill(KEY, product(6), 6, LEASE_MS)).isEqualTo(RedisCacheTier.FillResult.REFUSED_BY_NEWER_ENTRY);
        assertThat(tier.fillAbsent(KEY, LEASE_MS)).isEqualTo(RedisCacheTier.FillResult.REFUSED_BY_NEWER_ENTRY);
        assertThat(tier.fill(KEY, product(7), 7, LEASE_MS)).isEqualTo(RedisCacheTier.FillResult.STORED);
        assertThat(tier.get(KEY, Product.class).version()).isEqualTo(7);
    }

    @Test
    void negativeEntryIsReplacedByRowFill() {
        tier.fillAbsent(KEY, LEASE_MS);
        assertThat(redis.commands().pttl(redis.keyPrefix() + KEY)).isBetween(1L, Duration.ofSeconds(30).toMillis());

        assertThat(tier.fill(KEY, product(1), 1, LEASE_MS)).isEqualTo(RedisCacheTier.FillResult.STORED);
        assertThat(tier.get(KEY, Product.class).kind()).isEqualTo(CacheLookup.Kind.VALUE);
    }

    @Test
    void unreadableValueIsMissAndOverwritten() {
        redis.commands().set(redis.keyPrefix() + KEY, "not json");

        assertThat(tier.get(KEY, Product.class).kind()).isEqualTo(CacheLookup.Kind.MISS);
        assertThat(tier.unreadableEntries()).isEqualTo(1);
        assertThat(tier.fill(KEY, product(2), 2, LEASE_MS)).isEqualTo(RedisCacheTier.FillResult.STORED);
    }

    @Test
    void ownTombstoneKeepsNewerEntry() throws Exception {
        tier.fill(KEY, product(8), 8, LEASE_MS);

        assertThat(tier.writeTombstone(KEY, 8, LEASE_MS)).as("an entry at the announced version is current").isFalse();
        assertThat(tier.writeTombstone(KEY, 9, LEASE_MS)).isTrue();
        assertThat(tier.writeTombstone(KEY, 8, LEASE_MS)).as("an older invalidation keeps the newer tombstone").isFalse();
        assertThat(tier.writeTombstone(KEY, -1, LEASE_MS + 5)).isTrue();

        JsonNode stored = Json.mapper().readTree(redis.commands().get(redis.keyPrefix() + KEY));
        assertThat(stored.get("tombstone").asBoolean()).isTrue();
        assertThat(stored.get("invalidatedVersion").asLong()).isEqualTo(-1);
        assertThat(stored.get("atMs").asLong()).isEqualTo(LEASE_MS + 5);
    }

    /** Writes a tombstone exactly as the cache invalidator does, with its own JSON field order. */
    private void setTombstone(long invalidatedVersion, long atMs) {
        redis.commands().set(redis.keyPrefix() + KEY,
                "{\"invalidatedVersion\":" + invalidatedVersion + ",\"tombstone\":true,\"atMs\":" + atMs + "}");
    }

    private static Product product(long version) {
        return new Product(42, 1, "Lamp v" + version, "", 1_000, 5, version, Instant.parse("2024-06-01T12:00:00Z"));
    }
}
