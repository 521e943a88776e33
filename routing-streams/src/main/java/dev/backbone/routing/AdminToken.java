package dev.backbone.routing;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The bearer token of the admin endpoints of the REST API. Its {@link #toString()} hides the value, so that logging a
 * configuration never prints it. Immutable and thread-safe.
 */
public final class AdminToken {

    /** Shortest token accepted, so that a token cannot be guessed by trying every short string. */
    public static final int MIN_LENGTH = 16;

    private final byte[] value;

    /** @throws IllegalArgumentException when the token is shorter than {@link #MIN_LENGTH} characters */
    public AdminToken(String value) {
        if (value == null || value.length() < MIN_LENGTH) {
            throw new IllegalArgumentException("admin token has " + (value == null ? 0 : value.length())
                    + " characters; use at least " + MIN_LENGTH);
        }
        this.value = value.getBytes(StandardCharsets.UTF_8);
    }

    /** Returns whether a presented token equals this one, in time independent of where they differ. */
    public boolean matches(String presented) {
        return presented != null && MessageDigest.isEqual(value, presented.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "AdminToken[hidden]";
    }
}
