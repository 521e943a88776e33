package dev.backbone.appserver;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.Objects;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks the bearer tokens that {@link TokenSigner} mints: the signature first, in constant time, then the payload,
 * then the expiry with the allowed clock skew. Thread-safe.
 */
public final class TokenVerifier {

    /** Longer Authorization values are rejected as malformed before any decoding. */
    public static final int MAX_TOKEN_LENGTH = 4_096;

    private static final String BEARER = "bearer ";
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

    private final SecretKeySpec key;
    private final long clockSkewSeconds;
    private final Clock clock;

    /**
     * @param clockSkew how long after its expiry a token is still accepted, for clocks that disagree
     * @throws IllegalArgumentException when the secret is shorter than {@link TokenSigner#MIN_SECRET_BYTES}
     */
    public TokenVerifier(byte[] secret, Duration clockSkew, Clock clock) {
        this.key = TokenSigner.secretKey(secret);
        this.clockSkewSeconds = Objects.requireNonNull(clockSkew, "clockSkew").toSeconds();
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Checks the value of an {@code Authorization} header, such as {@code Bearer eyJ...}.
     *
     * @param authorization the header value, or {@code null} when the request has none
     * @return the token's claims
     * @throws InvalidTokenException saying why the token is missing or not accepted
     */
    public TokenClaims verifyAuthorization(String authorization) throws InvalidTokenException {
        if (authorization == null || authorization.isBlank()) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MISSING, "no bearer token; send Authorization: Bearer TOKEN");
        }
        if (authorization.length() > MAX_TOKEN_LENGTH) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, "the Authorization header is longer than "
                    + MAX_TOKEN_LENGTH + " characters");
        }
        if (!authorization.toLowerCase(Locale.ROOT).startsWith(BEARER)) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MALFORMED,
                    "the Authorization header does not use the Bearer scheme; send Authorization: Bearer TOKEN");
        }
        return verify(authorization.substring(BEARER.length()).trim());
    }

    /**
     * Checks a token without the {@code Bearer} prefix.
     *
     * @throws InvalidTokenException saying why the token is not accepted
     */
    public TokenClaims verify(String token) throws InvalidTokenException {
        if (token == null || token.isEmpty()) {
            throw new InvalidTokenException(InvalidTokenException.Reason.MISSING, "no bearer token; send Authorization: Bearer TOKEN");
        }
        int dot = token.indexOf('.');
        if (dot <= 0 || dot == token.length() - 1 || token.indexOf('.', dot + 1) >= 0) {
            throw malformed("the token is not two base64url parts separated by one '.'");
        }
        String encodedPayload = token.substring(0, dot);
        byte[] signature = decode(token.substring(dot + 1), "signature");
        if (!MessageDigest.isEqual(signature, TokenSigner.sign(key, encodedPayload))) {
            throw new InvalidTokenException(InvalidTokenException.Reason.BAD_SIGNATURE,
                    "the token signature does not match; the token was changed or signed with another secret");
        }

        TokenClaims claims = parsePayload(decode(encodedPayload, "payload"));
        long now = clock.instant().getEpochSecond();
        if (now > claims.expiresAtSeconds() + clockSkewSeconds) {
            throw new InvalidTokenException(InvalidTokenException.Reason.EXPIRED, "the token expired at "
                    + java.time.Instant.ofEpochSecond(claims.expiresAtSeconds()) + "; request a new one");
        }
        return claims;
    }

    private static TokenClaims parsePayload(byte[] payload) throws InvalidTokenException {
        JsonNode json;
        try {
            json = Json.mapper().readTree(new String(payload, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw malformed("the token payload is not JSON");
        }
        if (json == null || !json.isObject()) {
            throw malformed("the token payload is not a JSON object");
        }
        JsonNode subject = json.get("sub");
        JsonNode issuedAt = json.get("iat");
        JsonNode expiresAt = json.get("exp");
        if (subject == null || !subject.isTextual() || subject.asText().isBlank()) {
            throw malformed("the token payload has no sub string");
        }
        if (issuedAt == null || !issuedAt.isIntegralNumber() || !issuedAt.canConvertToLong()
                || expiresAt == null || !expiresAt.isIntegralNumber() || !expiresAt.canConvertToLong()) {
            throw malformed("the token payload has no iat and exp integers (epoch seconds)");
        }
        return new TokenClaims(subject.asText(), issuedAt.asLong(), expiresAt.asLong());
    }

    private static byte[] decode(String part, String name) throws InvalidTokenException {
        try {
            return DECODER.decode(part);
        } catch (IllegalArgumentException e) {
            throw malformed("the token " + name + " is not base64url");
        }
    }

    private static InvalidTokenException malformed(String description) {
        return new InvalidTokenException(InvalidTokenException.Reason.MALFORMED, description);
    }
}
