package dev.backbone.appserver;

import java.util.Objects;

/**
 * The verified payload of a bearer token.
 *
 * @param subject          {@code sub}: who the token was minted for
 * @param issuedAtSeconds  {@code iat}: when it was minted, epoch seconds
 * @param expiresAtSeconds {@code exp}: when it expires, epoch seconds
 */
public record TokenClaims(String subject, long issuedAtSeconds, long expiresAtSeconds) {

    public TokenClaims {
        Objects.requireNonNull(subject, "subject");
    }
}
