package dev.backbone.appserver;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.backbone.events.Json;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mints bearer tokens: {@code base64url(payload) + "." + base64url(HMAC-SHA256(secret, base64url(payload)))}, both
 * parts without padding, where the payload is the JSON object {@code {"sub": SUBJECT, "iat": ISSUED, "exp": EXPIRES}}
 * with times in epoch seconds. {@link TokenVerifier} checks them. Thread-safe.
 */
public final class TokenSigner {

    /** The minimum secret length in bytes: the output length of SHA-256, as RFC 2104 recommends for HMAC keys. */
    public static final int MIN_SECRET_BYTES = 32;
    /** The maximum subject length in characters. */
    public static final int MAX_SUBJECT_LENGTH = 256;

    static final String ALGORITHM = "HmacSHA256";
    static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private final SecretKeySpec key;
    private final Clock clock;

    /**
     * @throws IllegalArgumentException when the secret is shorter than {@link #MIN_SECRET_BYTES}
     */
    public TokenSigner(byte[] secret) {
        this(secret, Clock.systemUTC());
    }

    /** Creates a signer that reads {@code clock} for the issue time, for tests. */
    public TokenSigner(byte[] secret, Clock clock) {
        this.key = secretKey(secret);
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Returns a token for {@code subject} that expires {@code ttl} from now, rounded down to whole seconds.
     *
     * @throws IllegalArgumentException when the subject is blank or longer than {@link #MAX_SUBJECT_LENGTH}, or the
     *                                  TTL is shorter than one second
     */
    public String mint(String subject, Duration ttl) {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(ttl, "ttl");
        if (subject.isBlank() || subject.length() > MAX_SUBJECT_LENGTH) {
            throw new IllegalArgumentException("subject is blank or longer than " + MAX_SUBJECT_LENGTH + " characters");
        }
        if (ttl.toSeconds() < 1) {
            throw new IllegalArgumentException("ttl must be at least 1 second, got " + ttl);
        }
        long issuedAt = clock.instant().getEpochSecond();
        ObjectNode payload = Json.mapper().createObjectNode();
        payload.put("sub", subject);
        payload.put("iat", issuedAt);
        payload.put("exp", issuedAt + ttl.toSeconds());
        String encodedPayload = ENCODER.encodeToString(payload.toString().getBytes(StandardCharsets.UTF_8));
        return encodedPayload + "." + ENCODER.encodeToString(sign(key, encodedPayload));
    }

    /** Returns the HMAC-SHA256 of the ASCII bytes of {@code signedPart}. */
    static byte[] sign(SecretKeySpec key, String signedPart) {
        try {
            // Mac instances are not thread-safe, so each signature gets its own.
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac.doFinal(signedPart.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("every Java runtime provides " + ALGORITHM, e);
        }
    }

    static SecretKeySpec secretKey(byte[] secret) {
        Objects.requireNonNull(secret, "secret");
        if (secret.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("the token secret is " + secret.length + " bytes long; accepted: at least "
                    + MIN_SECRET_BYTES + " bytes, such as the output of: openssl rand -base64 32");
        }
        return new SecretKeySpec(secret, ALGORITHM);
    }
}
