package dev.backbone.appserver;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * Bearer token checks of an app server, part of {@link AppServerConfig}. {@link #toString()} leaves the secret out.
 *
 * @param secret    {@value AppServerConfig#AUTH_SECRET}: the HMAC-SHA256 key, at least
 *                  {@link TokenSigner#MIN_SECRET_BYTES} bytes as UTF-8
 * @param clockSkew {@value AppServerConfig#AUTH_CLOCK_SKEW_S}: how long after its expiry a token is still accepted, for
 *                  clocks that disagree
 */
public record AuthConfig(String secret, Duration clockSkew) {

    public AuthConfig {
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(clockSkew, "clockSkew");
    }

    /** Returns the secret as UTF-8 bytes. */
    public byte[] secretBytes() {
        return secret.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "AuthConfig[secret=(" + secretBytes().length + " bytes), clockSkew=" + clockSkew + "]";
    }
}
