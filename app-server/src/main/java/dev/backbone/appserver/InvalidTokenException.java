package dev.backbone.appserver;

import java.util.Locale;
import java.util.Objects;

/** A bearer token that is missing or not accepted, rejected with 401. The message never contains the token. */
public final class InvalidTokenException extends Exception {

    /** The reason a token was rejected; {@link #tag()} is the {@code reason} tag of {@code backbone.auth.failures}. */
    public enum Reason {
        MISSING, MALFORMED, BAD_SIGNATURE, EXPIRED;

        public String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Reason reason;

    public InvalidTokenException(Reason reason, String description) {
        super(description);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
