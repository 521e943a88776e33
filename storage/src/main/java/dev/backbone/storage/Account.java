package dev.backbone.storage;

import java.time.Instant;
import java.util.Objects;

/**
 * One row of the {@code accounts} table.
 *
 * @param id          the primary key
 * @param email       the e-mail address, unique
 * @param displayName the name shown to other users
 * @param verified    whether the account is verified; verified accounts are pinned in the app servers' caches
 * @param version     the row version: 1 on insert, one more on every update
 * @param updatedAt   the start time of the transaction that last wrote the row
 */
public record Account(long id, String email, String displayName, boolean verified, long version, Instant updatedAt) {

    public Account {
        Objects.requireNonNull(email, "email");
        Objects.requireNonNull(displayName, "displayName");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }

    /** Returns the cache key of an account id, such as {@code account:7}. */
    public static String cacheKey(long id) {
        return "account:" + id;
    }
}
