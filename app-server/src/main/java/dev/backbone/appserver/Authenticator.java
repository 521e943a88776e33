package dev.backbone.appserver;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Checks the bearer token of requests to protected endpoints, counts failures by reason in
 * {@code backbone.auth.failures} and builds their 401 responses. Tokens are never logged. Thread-safe.
 */
final class Authenticator {

    static final String AUTHORIZATION = "authorization";
    /** The {@code reason} tag of an edge fetch whose {@code X-Backbone-Edge-Token} does not match {@code edge.token}. */
    static final String EDGE_TOKEN_REASON = "edge_token";

    private final TokenVerifier verifier;
    private final Map<InvalidTokenException.Reason, Counter> failures = new EnumMap<>(InvalidTokenException.Reason.class);
    private final Counter edgeTokenMismatches;

    Authenticator(TokenVerifier verifier, MeterRegistry registry) {
        this.verifier = verifier;
        for (InvalidTokenException.Reason reason : InvalidTokenException.Reason.values()) {
            failures.put(reason, failureCounter(registry, reason.tag()));
        }
        this.edgeTokenMismatches = failureCounter(registry, EDGE_TOKEN_REASON);
    }

    private static Counter failureCounter(MeterRegistry registry, String reason) {
        return Counter.builder("backbone.auth.failures").tag("reason", reason)
                .description("requests rejected for a missing or invalid token").register(registry);
    }

    /**
     * Returns the claims of the request's bearer token.
     *
     * @throws InvalidTokenException when the token is missing or not accepted; the failure is counted
     */
    TokenClaims authenticate(ClientRequest request) throws InvalidTokenException {
        try {
            return verifier.verifyAuthorization(request.header(AUTHORIZATION));
        } catch (InvalidTokenException e) {
            failures.get(e.reason()).increment();
            throw e;
        }
    }

    /** Counts a request whose edge token header is set but does not match. */
    void countEdgeTokenMismatch() {
        edgeTokenMismatches.increment();
    }

    /**
     * Returns 401 with {@code WWW-Authenticate} as RFC 6750 describes and a JSON body naming the reason. The error
     * code is {@code invalid_token} for a missing token too, so that clients need to handle one code only.
     */
    static ClientResponse unauthorized(Responses responses, ClientRequest request, InvalidTokenException e) {
        ClientResponse error = responses.error(request, 401, "invalid_token", e.getMessage(), Map.of("reason", e.reason().tag()));
        // The descriptions are fixed texts without quotes or backslashes, so they need no escaping here.
        return Responses.withHeaders(error, Map.of("www-authenticate",
                "Bearer realm=\"backbone\", error=\"invalid_token\", error_description=\"" + e.getMessage() + "\""));
    }

    /** Returns the failures counted so far by {@code reason} tag, in a fixed order. */
    Map<String, Long> failuresByReason() {
        var counts = new LinkedHashMap<String, Long>();
        failures.forEach((reason, counter) -> counts.put(reason.tag(), (long) counter.count()));
        counts.put(EDGE_TOKEN_REASON, (long) edgeTokenMismatches.count());
        return counts;
    }
}
