package dev.backbone.routing;

import dev.backbone.events.ClientRequest;
import java.util.Locale;
import java.util.Objects;

/**
 * Load-balancing settings of one app-server pool.
 *
 * @param hashKey           what is hashed to choose a server ({@code pool.<name>.hash.key}, default {@code lb.hash.key})
 * @param boundedLoadFactor the cap of any server's load as a multiple of the mean, or 0 for no cap
 *                          ({@code pool.<name>.bounded.load.factor}, default {@code lb.bounded.load.factor}, 0)
 * @param loadWindowMs      the sliding window over which bounded loads count requests
 *                          ({@code pool.<name>.load.window.ms}, default {@code lb.load.window.ms}, 60000)
 */
public record PoolSettings(HashKeyRule hashKey, double boundedLoadFactor, long loadWindowMs) {

    static final double NO_BOUND = 0;
    static final long DEFAULT_LOAD_WINDOW_MS = 60_000;

    public PoolSettings {
        Objects.requireNonNull(hashKey, "hashKey");
    }

    public boolean boundedLoads() {
        return boundedLoadFactor > NO_BOUND;
    }

    /**
     * The value hashed to choose a server.
     *
     * @param kind   client id, path or a header
     * @param header the header name in lower case for {@link RoutingConfig.HashKey#HEADER}, else null
     */
    public record HashKeyRule(RoutingConfig.HashKey kind, String header) {

        static final String HEADER_PREFIX = "header:";
        static final String ACCEPTED = "client, path or header:<name>, such as header:x-session-id";

        public HashKeyRule {
            Objects.requireNonNull(kind, "kind");
            if ((kind == RoutingConfig.HashKey.HEADER) == (header == null || header.isBlank())) {
                throw new IllegalArgumentException("a header name is required for header hash keys and only for them");
            }
            header = header == null ? null : header.toLowerCase(Locale.ROOT);
        }

        /**
         * Parses {@code client}, {@code path} or {@code header:<name>}, case-insensitively.
         *
         * @throws IllegalArgumentException naming the value and what is accepted
         */
        static HashKeyRule parse(String value) {
            String trimmed = value.trim();
            String lower = trimmed.toLowerCase(Locale.ROOT);
            if (lower.equals("client")) {
                return new HashKeyRule(RoutingConfig.HashKey.CLIENT, null);
            }
            if (lower.equals("path")) {
                return new HashKeyRule(RoutingConfig.HashKey.PATH, null);
            }
            if (lower.startsWith(HEADER_PREFIX) && trimmed.length() > HEADER_PREFIX.length()
                    && trimmed.substring(HEADER_PREFIX.length()).matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
                return new HashKeyRule(RoutingConfig.HashKey.HEADER, trimmed.substring(HEADER_PREFIX.length()));
            }
            throw new IllegalArgumentException("'" + value + "' is not accepted; accepted: " + ACCEPTED);
        }

        /**
         * Returns the routing key of a request. A request without the header, or with a blank one, is hashed by its
         * client id, so that it still lands on one server consistently.
         */
        String keyOf(ClientRequest request) {
            return switch (kind) {
                case CLIENT -> request.clientId();
                case PATH -> request.path();
                case HEADER -> {
                    String value = request.header(header);
                    yield value == null || value.isBlank() ? request.clientId() : value;
                }
            };
        }

        /** Returns the configuration value, such as {@code header:x-session-id}. */
        String configValue() {
            return kind == RoutingConfig.HashKey.HEADER ? HEADER_PREFIX + header : kind.configValue();
        }
    }
}
