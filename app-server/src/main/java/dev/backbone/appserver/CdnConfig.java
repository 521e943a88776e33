package dev.backbone.appserver;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * CDN edges and cache headers of static content, part of {@link AppServerConfig}. {@link #toString()} leaves the edge
 * token out.
 *
 * @param edgeToken            {@value AppServerConfig#EDGE_TOKEN}: the value of {@code X-Backbone-Edge-Token} that edges
 *                             send when they fetch from the origin, or empty when no edge may fetch
 * @param edges                {@value AppServerConfig#CDN_EDGES}: edge base URL by client region, without a trailing
 *                             slash
 * @param defaultEdge          {@value AppServerConfig#CDN_DEFAULT_EDGE}: the edge for regions not listed, without a
 *                             trailing slash, or empty to serve those clients from the origin
 * @param clientMaxAge         {@value AppServerConfig#CDN_CLIENT_MAX_AGE_S}: {@code max-age} for browsers
 * @param edgeMaxAge           {@value AppServerConfig#CDN_EDGE_MAX_AGE_S}: {@code s-maxage} for edges
 * @param staleWhileRevalidate {@value AppServerConfig#CDN_STALE_WHILE_REVALIDATE_S}: {@code stale-while-revalidate}
 * @param staleIfError         {@value AppServerConfig#CDN_STALE_IF_ERROR_S}: {@code stale-if-error}
 */
public record CdnConfig(String edgeToken, Map<String, String> edges, String defaultEdge, Duration clientMaxAge,
                        Duration edgeMaxAge, Duration staleWhileRevalidate, Duration staleIfError) {

    public CdnConfig {
        Objects.requireNonNull(edgeToken, "edgeToken");
        Objects.requireNonNull(defaultEdge, "defaultEdge");
        Objects.requireNonNull(clientMaxAge, "clientMaxAge");
        Objects.requireNonNull(edgeMaxAge, "edgeMaxAge");
        Objects.requireNonNull(staleWhileRevalidate, "staleWhileRevalidate");
        Objects.requireNonNull(staleIfError, "staleIfError");
        edges = Map.copyOf(edges);
    }

    /** Returns the edge base URL for a client region: its own edge, the default edge, or empty when there is none. */
    public Optional<String> edgeFor(String region) {
        String edge = edges.get(region);
        if (edge != null) {
            return Optional.of(edge);
        }
        return defaultEdge.isEmpty() ? Optional.empty() : Optional.of(defaultEdge);
    }

    /**
     * Returns the {@code Cache-Control} value of API reads: shared caches (the edges) keep them for the edge max age,
     * because change data capture purges them by surrogate key after every write; browsers revalidate every time.
     */
    public String sharedCacheControl() {
        return "public, max-age=0, s-maxage=" + edgeMaxAge.toSeconds();
    }

    /** Returns the {@code Cache-Control} value of static content served to edges and browsers. */
    public String publicCacheControl() {
        return "public, max-age=" + clientMaxAge.toSeconds() + ", s-maxage=" + edgeMaxAge.toSeconds()
                + ", stale-while-revalidate=" + staleWhileRevalidate.toSeconds() + ", stale-if-error=" + staleIfError.toSeconds();
    }

    @Override
    public String toString() {
        return "CdnConfig[edgeToken=" + (edgeToken.isEmpty() ? "(none)" : "(set)") + ", edges=" + edges + ", defaultEdge="
                + defaultEdge + ", clientMaxAge=" + clientMaxAge + ", edgeMaxAge=" + edgeMaxAge + ", staleWhileRevalidate="
                + staleWhileRevalidate + ", staleIfError=" + staleIfError + "]";
    }
}
