package dev.backbone.routing;

import java.util.List;

/**
 * One entry of a client's DNS cache: the answer to one name, kept until {@code expiresAtMs}.
 *
 * @param name        the canonical name the client asked for
 * @param unknownHost whether the answer is NXDOMAIN
 * @param addresses   the addresses in this client's order; empty for NXDOMAIN
 * @param level       the level that answered: {@code region}, {@code country} or {@code global}; null for NXDOMAIN
 * @param expiresAtMs wall-clock time the entry expires, epoch milliseconds
 */
public record CachedAnswer(String name, boolean unknownHost, List<String> addresses, String level, long expiresAtMs) {

    public CachedAnswer {
        addresses = addresses == null ? List.of() : List.copyOf(addresses);
    }

    boolean isFresh(long nowMs) {
        return nowMs < expiresAtMs;
    }
}
