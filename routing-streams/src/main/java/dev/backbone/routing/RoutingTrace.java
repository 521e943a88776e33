package dev.backbone.routing;

import java.util.List;

/**
 * The route processor's decision on one request, kept in {@link RoutingTopology#ROUTING_TRACES_STORE} for
 * {@code trace.retention.ms} and returned by {@code GET /api/traces/{requestId}}. Fields the processor had not reached
 * when it rejected the request are null.
 *
 * @param requestId        the request id
 * @param clientId         the client id, which is also the key of the request's partition
 * @param host             the canonical host name, or the raw one when it is invalid
 * @param resolvedBy       {@code cache} or the DNS level that answered: {@code country}, {@code region} or
 *                         {@code global}; null when resolution failed
 * @param dnsCacheHit      whether the client's DNS cache answered
 * @param skippedAddresses load-balancer addresses passed over because their balancer was not UP
 * @param loadBalancer     the load balancer the request went through
 * @param pool             the pool of that load balancer
 * @param serverId         the app server chosen
 * @param spilled          whether bounded loads moved the request off its first choice
 * @param outcome          {@code routed} or {@code rejected}
 * @param status           200 when routed, else the HTTP status of the error response
 * @param error            the error code of the response, such as {@code no_healthy_server}; null when routed
 * @param routedAtMs       wall-clock time of the decision, epoch milliseconds
 */
public record RoutingTrace(String requestId, String clientId, String host, String resolvedBy, boolean dnsCacheHit,
                           List<String> skippedAddresses, String loadBalancer, String pool, String serverId,
                           boolean spilled, String outcome, int status, String error, long routedAtMs) {

    static final String ROUTED = "routed";
    static final String REJECTED = "rejected";

    public RoutingTrace {
        skippedAddresses = skippedAddresses == null ? List.of() : List.copyOf(skippedAddresses);
    }

    /** The fields of a trace as the route processor learns them, one request at a time. Not thread-safe. */
    static final class Builder {
        private final String requestId;
        private final String clientId;
        private String host;
        private String resolvedBy;
        private boolean dnsCacheHit;
        private List<String> skippedAddresses = List.of();
        private String loadBalancer;
        private String pool;

        Builder(String requestId, String clientId, String host) {
            this.requestId = requestId;
            this.clientId = clientId;
            this.host = host;
        }

        void host(String canonicalHost) {
            this.host = canonicalHost;
        }

        void resolvedBy(String level, boolean cacheHit) {
            this.resolvedBy = level;
            this.dnsCacheHit = cacheHit;
        }

        void loadBalancer(List<String> skipped, String address, String poolName) {
            this.skippedAddresses = skipped;
            this.loadBalancer = address;
            this.pool = poolName;
        }

        RoutingTrace routed(String serverId, boolean spilled, long atMs) {
            return new RoutingTrace(requestId, clientId, host, resolvedBy, dnsCacheHit, skippedAddresses, loadBalancer,
                    pool, serverId, spilled, ROUTED, 200, null, atMs);
        }

        RoutingTrace rejected(int status, String error, long atMs) {
            return new RoutingTrace(requestId, clientId, host, resolvedBy, dnsCacheHit, skippedAddresses, loadBalancer,
                    pool, null, false, REJECTED, status, error, atMs);
        }
    }
}
