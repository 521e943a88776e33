package dev.backbone.events;

import java.util.List;
import java.util.Objects;

/**
 * A client request after DNS resolution and load balancing, addressed to one app server.
 *
 * @param schemaVersion    event schema version, {@link #SCHEMA_VERSION} for events written by this code
 * @param request          the original request
 * @param resolvedBy       what answered the DNS question: {@code cache}, {@code region}, {@code country} or {@code global}
 * @param loadBalancer     the load-balancer address the request went to
 * @param skippedAddresses addresses tried before it whose load balancers were dead, in waterfall order
 * @param pool             the app-server pool behind that load balancer
 * @param serverId         the app server chosen by consistent hashing
 * @param routingKey       the value that was hashed to choose the server
 * @param spilled          whether bounded loads moved the request off its first choice
 * @param routedAtMs       wall-clock time of the routing decision, epoch milliseconds
 */
public record RoutedRequest(
        int schemaVersion,
        ClientRequest request,
        String resolvedBy,
        String loadBalancer,
        List<String> skippedAddresses,
        String pool,
        String serverId,
        String routingKey,
        boolean spilled,
        long routedAtMs) {

    public static final int SCHEMA_VERSION = 1;

    public RoutedRequest {
        Events.requireSchemaVersion(schemaVersion, SCHEMA_VERSION, "RoutedRequest");
        Objects.requireNonNull(request, "request");
        Events.requireText(serverId, "serverId");
        skippedAddresses = skippedAddresses == null ? List.of() : List.copyOf(skippedAddresses);
    }
}
