package dev.backbone.storage;

import java.util.Objects;

/**
 * A value with the version of the database row it was read from.
 *
 * @param value   the value, not null
 * @param version the row version; larger is newer
 */
public record Versioned<V>(V value, long version) {

    public Versioned {
        Objects.requireNonNull(value, "value");
    }
}
