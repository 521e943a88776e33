package dev.backbone.appserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class TokenTest {

    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    private static final Instant NOW = Instant.parse("2024-06-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    private final TokenSigner signer = new TokenSigner(SECRET, CLOCK);
    private final TokenVerifier verifier = new TokenVerifier(SECRET, Duration.ofSeconds(30), CLOCK);

    @Test
    void mintedTokenVerifies() throws Exception {
        String token = signer.mint("alice", Duration.ofHours(1));

        TokenClaims claims = verifier.verifyAuthorization("Bearer " + token);

        assertThat(claims).isEqualTo(new TokenClaims("alice", NOW.getEpochSecond(), NOW.getEpochSecond() + 3_600));
        assertThat(verifier.verifyAuthorization("bearer " + token).subject()).as("the scheme is case-insensitive").isEqualTo("alice");
    }

    @Test
    void tokenHasPayloadDotSignature() {
        String token = signer.mint("alice", Duration.ofSeconds(60));

        String[] parts = token.split("\\.");
        assertThat(parts).hasSize(2);
        assertThat(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8))
                .isEqualTo("{\"sub\":\"alice\",\"iat\":" + NOW.getEpochSecond() + ",\"exp\":" + (NOW.getEpochSecond() + 60) + "}");
        assertThat(Base64.getUrlDecoder().decode(parts[1])).hasSize(32);
        assertThat(token).doesNotContain("=");
    }

    @Test
    void missingTokenIsMissing() {
        assertThat(reason(null)).isEqualTo(InvalidTokenException.Reason.MISSING);
        assertThat(reason("  ")).isEqualTo(InvalidTokenException.Reason.MISSING);
        assertThat(reason("Bearer ")).isEqualTo(InvalidTokenException.Reason.MISSING);
    }

    @Test
    void malformedTokensAreMalformed() {
        String good = signer.mint("alice", Duration.ofHours(1));
        String[] malformed = {
            "Basic dXNlcjpwYXNz",
            "Bearer no-dot-at-all",
            "Bearer a.b.c",
            "Bearer .signature",
            "Bearer payload.",
            "Bearer " + good.substring(0, good.indexOf('.')) + ".not*base64",
            "Bearer " + "x".repeat(TokenVerifier.MAX_TOKEN_LENGTH),
        };
        for (String authorization : malformed) {
            assertThat(reason(authorization)).as(authorization.length() > 60 ? "a long header" : authorization)
                    .isEqualTo(InvalidTokenException.Reason.MALFORMED);
        }
    }

    @Test
    void signedPayloadWithoutClaimsIsMalformed() {
        for (String payload : new String[] {"[1]", "{\"sub\":\"a\",\"iat\":1}", "{\"sub\":\"\",\"iat\":1,\"exp\":2}",
                "{\"sub\":\"a\",\"iat\":\"1\",\"exp\":2}", "not json"}) {
            String token = signed(payload);

            assertThat(reason("Bearer " + token)).as(payload).isEqualTo(InvalidTokenException.Reason.MALFORMED);
        }
    }

    @Test
    void tamperedPayloadHasBadSignature() {
        String token = signer.mint("alice", Duration.ofHours(1));
        String forgedPayload = Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("{\"sub\":\"admin\",\"iat\":" + NOW.getEpochSecond() + ",\"exp\":" + (NOW.getEpochSecond() + 3_600) + "}")
                        .getBytes(StandardCharsets.UTF_8));

        String tampered = forgedPayload + token.substring(token.indexOf('.'));

        assertThat(reason("Bearer " + tampered)).isEqualTo(InvalidTokenException.Reason.BAD_SIGNATURE);
    }

    @Test
    void otherSecretHasBadSignature() {
        var other = new TokenSigner("another-secret-of-thirty-two-byte".getBytes(StandardCharsets.UTF_8), CLOCK);

        assertThat(reason("Bearer " + other.mint("alice", Duration.ofHours(1)))).isEqualTo(InvalidTokenException.Reason.BAD_SIGNATURE);
    }

    @Test
    void expiryAllowsClockSkew() throws Exception {
        String token = signer.mint("alice", Duration.ofSeconds(60));

        var withinSkew = new TokenVerifier(SECRET, Duration.ofSeconds(30), Clock.fixed(NOW.plusSeconds(90), ZoneOffset.UTC));
        var pastSkew = new TokenVerifier(SECRET, Duration.ofSeconds(30), Clock.fixed(NOW.plusSeconds(91), ZoneOffset.UTC));

        assertThat(withinSkew.verify(token).subject()).isEqualTo("alice");
        InvalidTokenException expired = catchThrowableOfType(InvalidTokenException.class, () -> pastSkew.verify(token));
        assertThat(expired.reason()).isEqualTo(InvalidTokenException.Reason.EXPIRED);
        assertThat(expired.getMessage()).isEqualTo("the token expired at 2024-06-01T12:01:00Z; request a new one");
    }

    @Test
    void shortSecretIsRejected() {
        assertThatThrownBy(() -> new TokenSigner(new byte[31]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the token secret is 31 bytes long; accepted: at least 32 bytes, such as the output of: openssl rand -base64 32");
        assertThatThrownBy(() -> new TokenVerifier(new byte[8], Duration.ZERO, CLOCK)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void mintRejectsBlankSubjectAndShortTtl() {
        assertThatThrownBy(() -> signer.mint(" ", Duration.ofHours(1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("subject");
        assertThatThrownBy(() -> signer.mint("alice", Duration.ofMillis(999))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ttl");
    }

    @Test
    void messagesNeverContainToken() {
        String token = signer.mint("alice", Duration.ofSeconds(1));
        var later = new TokenVerifier(SECRET, Duration.ZERO, Clock.fixed(NOW.plusSeconds(3_600), ZoneOffset.UTC));

        InvalidTokenException expired = catchThrowableOfType(InvalidTokenException.class, () -> later.verify(token));

        assertThat(expired.getMessage()).doesNotContain(token).doesNotContain(token.substring(0, token.indexOf('.')));
    }

    private String signed(String payload) {
        String encoded = Base64.getUrlEncoder().withoutPadding().encodeToString(payload.getBytes(StandardCharsets.UTF_8));
        byte[] signature = TokenSigner.sign(TokenSigner.secretKey(SECRET), encoded);
        return encoded + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature);
    }

    private InvalidTokenException.Reason reason(String authorization) {
        InvalidTokenException error = catchThrowableOfType(InvalidTokenException.class,
                () -> verifier.verifyAuthorization(authorization));
        assertThat(error).as("token rejected").isNotNull();
        return error.reason();
    }
}
