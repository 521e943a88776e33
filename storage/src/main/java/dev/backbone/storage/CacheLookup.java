package dev.backbone.storage;

import java.util.Optional;

/**
 * The result of looking up one key in one cache tier.
 *
 * @param kind    whether the tier held a value, held a cached "no such row", or held nothing
 * @param value   the value when {@code kind} is {@link Kind#VALUE}, otherwise {@code null}
 * @param version the row version of the value, 0 for {@link Kind#ABSENT}, -1 for {@link Kind#MISS}
 */
public record CacheLookup<V>(Kind kind, V value, long version) {

    /** The kind of entry a tier had for a key. */
    public enum Kind {
        /** A value read from a row. */
        VALUE,
        /** A negative entry: the row did not exist when it was read. */
        ABSENT,
        /** Nothing usable: no entry, an expired one, or a tombstone. */
        MISS
    }

    /** The version of a negative entry: lower than any row version, which starts at 1. */
    public static final long ABSENT_VERSION = 0;

    public static <V> CacheLookup<V> value(V value, long version) {
        return new CacheLookup<>(Kind.VALUE, value, version);
    }

    public static <V> CacheLookup<V> absent() {
        return new CacheLookup<>(Kind.ABSENT, null, ABSENT_VERSION);
    }

    public static <V> CacheLookup<V> miss() {
        return new CacheLookup<>(Kind.MISS, null, -1);
    }

    /** Returns whether the tier had an entry: a value or a negative entry. */
    public boolean hit() {
        return kind != Kind.MISS;
    }

    /** Returns the value, or empty for a negative entry or a miss. */
    public Optional<V> optionalValue() {
        return Optional.ofNullable(value);
    }
}
