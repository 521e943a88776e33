package dev.backbone.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PinnedCacheTest {

    private static final Instant AT = Instant.parse("2024-06-01T12:00:00Z");

    /** The database of these tests: cache key to account row. */
    private final Map<String, Account> rows = new ConcurrentHashMap<>();
    private final AtomicInteger loads = new AtomicInteger();
    private final Queue<Runnable> refreshes = new ArrayDeque<>();
    /** Runs once inside the next load, after the row is read: a write that races the load. */
    private Runnable duringNextLoad;

    private final PinnedCache<Account> direct = new PinnedCache<>("account", 3, this::load, Account::verified, Runnable::run);
    private final PinnedCache<Account> queued = new PinnedCache<>("account", 3, this::load, Account::verified, refreshes::add);

    @Test
    void pinLoadsValue() {
        rows.put("account:1", account(1, true, 1));

        assertThat(direct.pin("account:1")).isTrue();

        assertThat(direct.isPinned("account:1")).isTrue();
        assertThat(direct.lookup("account:1").value()).isEqualTo(account(1, true, 1));
        assertThat(loads).hasValue(1);
    }

    @Test
    void pinOfMissingRowIsRejected() {
        assertThat(direct.pin("account:404")).isFalse();
        assertThat(direct.isPinned("account:404")).isFalse();
    }

    @Test
    void pinOfUnverifiedAccountIsRejected() {
        rows.put("account:2", account(2, false, 1));

        assertThat(direct.pin("account:2")).isFalse();
        assertThat(direct.pinnedCount()).isZero();
    }

    @Test
    void pinBeyondMaxKeysIsRejected() {
        for (int id = 1; id <= 4; id++) {
            rows.put("account:" + id, account(id, true, 1));
        }

        assertThat(direct.pin("account:1")).isTrue();
        assertThat(direct.pin("account:2")).isTrue();
        assertThat(direct.pin("account:3")).isTrue();
        assertThat(direct.pin("account:4")).isFalse();
        assertThat(direct.pin("account:1")).as("pinning a pinned key again").isTrue();
        assertThat(direct.pinnedCount()).isEqualTo(3);
    }

    @Test
    void invalidationRefreshesPinnedValue() {
        rows.put("account:1", account(1, true, 1));
        direct.pin("account:1");

        rows.put("account:1", account(1, true, 2));
        direct.invalidate("account:1", 2);

        assertThat(direct.lookup("account:1").value()).isEqualTo(account(1, true, 2));
        assertThat(loads).hasValue(2);
    }

    @Test
    void invalidationEvictsBeforeRefreshRuns() {
        rows.put("account:1", account(1, true, 1));
        queued.pin("account:1");
        rows.put("account:1", account(1, true, 2));

        queued.invalidate("account:1", -1);

        assertThat(queued.lookup("account:1").kind()).as("no old value while the reload waits").isEqualTo(CacheLookup.Kind.MISS);
        refreshes.poll().run();
        assertThat(queued.lookup("account:1").value()).isEqualTo(account(1, true, 2));
    }

    @Test
    void reloadRacingNewerInvalidationIsRejected() {
        rows.put("account:1", account(1, true, 1));
        queued.pin("account:1");
        rows.put("account:1", account(1, true, 2));
        queued.invalidate("account:1", 2);

        // The reload reads version 2 and stalls; meanwhile version 3 commits and its invalidation is applied.
        duringNextLoad = () -> {
            rows.put("account:1", account(1, true, 3));
            queued.invalidate("account:1", 3);
        };
        refreshes.poll().run();

        assertThat(queued.lookup("account:1").kind()).as("version 2 is not stored").isEqualTo(CacheLookup.Kind.MISS);
        assertThat(refreshes).as("the newer invalidation scheduled a reload of its own").hasSize(1);
        refreshes.poll().run();
        assertThat(queued.lookup("account:1").value().version()).isEqualTo(3);
    }

    @Test
    void accountNoLongerVerifiedIsUnpinned() {
        rows.put("account:1", account(1, true, 1));
        direct.pin("account:1");

        rows.put("account:1", account(1, false, 2));
        direct.invalidate("account:1", -1);

        assertThat(direct.isPinned("account:1")).isFalse();
        assertThat(direct.lookup("account:1").kind()).isEqualTo(CacheLookup.Kind.MISS);
    }

    @Test
    void deletedRowIsUnpinned() {
        rows.put("account:1", account(1, true, 1));
        direct.pin("account:1");

        rows.remove("account:1");
        direct.invalidate("account:1", -1);

        assertThat(direct.isPinned("account:1")).isFalse();
    }

    @Test
    void failedReloadKeepsKeyPinned() {
        rows.put("account:1", account(1, true, 1));
        var failing = new AtomicInteger();
        var cache = new PinnedCache<Account>("account", 3, key -> {
            if (failing.get() > 0) {
                throw new StorageException("cannot read " + key, new java.sql.SQLException("connection refused", "08001"));
            }
            return load(key);
        }, Account::verified, Runnable::run);
        cache.pin("account:1");

        failing.set(1);
        cache.invalidate("account:1", 2);

        assertThat(cache.isPinned("account:1")).isTrue();
        assertThat(cache.lookup("account:1").kind()).isEqualTo(CacheLookup.Kind.MISS);
        assertThat(cache.fill("account:1", cache.lease(), account(1, true, 2), 2)).as("the next read fills it").isTrue();
    }

    @Test
    void fillOfUnpinnedKeyIsIgnored() {
        assertThat(direct.fill("account:9", direct.lease(), account(9, true, 1), 1)).isFalse();
        assertThat(direct.lookup("account:9").kind()).isEqualTo(CacheLookup.Kind.MISS);
    }

    private Optional<Versioned<Account>> load(String key) {
        loads.incrementAndGet();
        Optional<Versioned<Account>> read = Optional.ofNullable(rows.get(key)).map(account -> new Versioned<>(account, account.version()));
        Runnable racingWrite = duringNextLoad;
        duringNextLoad = null;
        if (racingWrite != null) {
            racingWrite.run();
        }
        return read;
    }

    private static Account account(long id, boolean verified, long version) {
        return new Account(id, "user" + id + "@example.com", "User " + id, verified, version, AT);
    }
}
