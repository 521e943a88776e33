package dev.backbone.appserver;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.storage.RateLimitedWarning;
import dev.backbone.storage.StaticAsset;
import dev.backbone.storage.TieredCache;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /static/{path}}: shared static content, served through the CDN.
 *
 * <ul>
 *   <li>A CDN edge fetching from its origin sends {@code X-Backbone-Edge-Token} equal to {@code edge.token}: it gets the
 *       body with {@code Cache-Control}, {@code Surrogate-Key} ({@code asset:<path>} and the asset's surrogate keys),
 *       {@code ETag} (the SHA-256 of the body) and {@code Last-Modified}, or 304 when {@code If-None-Match} matches.</li>
 *   <li>Any other client is redirected (302) to the edge of its region, or of {@code cdn.default.edge}, after a bearer
 *       token check when the asset requires authentication. Without an edge for its region it gets the body from
 *       here, as an edge would.</li>
 * </ul>
 * Bodies are text, because they travel as UTF-8 inside a {@code ClientResponse} event; storage accepts text content
 * types only. Thread-safe.
 *
 * <p>NOTE: an edge caches and serves an asset that requires authentication to anyone with its edge URL, because
 * edges do not check bearer tokens; only the redirect here is protected.
 */
final class StaticEndpoints {

    static final String PREFIX = "/static";
    static final String EDGE_TOKEN_HEADER = "x-backbone-edge-token";

    private static final Logger log = LoggerFactory.getLogger(StaticEndpoints.class);
    /** HTTP-date of RFC 9110, such as {@code Sun, 06 Nov 1994 08:49:37 GMT}. */
    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ENGLISH).withZone(ZoneOffset.UTC);

    private final TieredCache<StaticAsset> cache;
    private final Authenticator authenticator;
    private final CdnConfig cdn;
    private final Responses responses;
    private final byte[] edgeToken;
    private final RateLimitedWarning edgeTokenWarning;

    StaticEndpoints(TieredCache<StaticAsset> cache, Authenticator authenticator, CdnConfig cdn, Responses responses, Clock clock) {
        this.cache = cache;
        this.authenticator = authenticator;
        this.cdn = cdn;
        this.responses = responses;
        this.edgeToken = cdn.edgeToken().getBytes(StandardCharsets.UTF_8);
        this.edgeTokenWarning = new RateLimitedWarning(log, clock, 10_000);
    }

    ClientResponse get(ClientRequest request) throws InvalidInputException, InvalidTokenException {
        String path = assetPath(request.path());
        TieredCache.Read<StaticAsset> read = cache.get(StaticAsset.cacheKey(path));
        if (read.value().isEmpty()) {
            return responses.notFound(request, "static asset " + path, Map.of("path", path));
        }
        StaticAsset asset = read.value().get();
        if (isEdge(request)) {
            return body(request, asset, cdn.publicCacheControl());
        }
        if (asset.requiresAuth()) {
            authenticator.authenticate(request);
        }
        Optional<String> edge = cdn.edgeFor(request.region());
        if (edge.isEmpty()) {
            String cacheControl = asset.requiresAuth() ? "private, max-age=" + cdn.clientMaxAge().toSeconds()
                    : cdn.publicCacheControl();
            return body(request, asset, cacheControl);
        }
        // The path has only unreserved characters (checked above), so it needs no percent-encoding in the URL.
        return responses.response(request, 302, Map.of("location", edge.get() + PREFIX + path,
                "cache-control", "private, max-age=0"), "");
    }

    /**
     * Returns the asset path below {@code /static}. The front door passes the path percent-decoded once, so a '%' left
     * in it is a second encoding or comes from a producer that skipped decoding. Both are rejected like any other
     * character outside the accepted set, and '.' and '..' segments are rejected as path traversal.
     */
    static String assetPath(String requestPath) throws InvalidInputException {
        String path = requestPath.substring(PREFIX.length());
        if (!StaticAsset.isValidPath(path)) {
            throw new InvalidInputException("static path " + InvalidInputException.shorten(path) + " is invalid; accepted: "
                    + StaticAsset.PATH_ACCEPTED, "path", path, StaticAsset.PATH_ACCEPTED);
        }
        return path;
    }

    private boolean isEdge(ClientRequest request) {
        String presented = request.header(EDGE_TOKEN_HEADER);
        if (presented == null) {
            return false;
        }
        // Constant time, so that response times do not reveal how much of the token matched.
        if (edgeToken.length > 0 && MessageDigest.isEqual(edgeToken, presented.getBytes(StandardCharsets.UTF_8))) {
            return true;
        }
        authenticator.countEdgeTokenMismatch();
        edgeTokenWarning.warn("Request {} sent {} that does not match {}; it is redirected like a browser. Check {} on"
                + " the CDN edges", request.requestId(), EDGE_TOKEN_HEADER, AppServerConfig.EDGE_TOKEN, AppServerConfig.EDGE_TOKEN);
        return false;
    }

    private ClientResponse body(ClientRequest request, StaticAsset asset, String cacheControl) {
        String etag = "\"" + asset.contentSha256() + "\"";
        var headers = new LinkedHashMap<String, String>();
        headers.put("cache-control", cacheControl);
        headers.put("surrogate-key", surrogateKeys(asset));
        headers.put("etag", etag);
        headers.put("last-modified", HTTP_DATE.format(asset.updatedAt()));
        String ifNoneMatch = request.header("if-none-match");
        if (ifNoneMatch != null && (ifNoneMatch.trim().equals("*") || ifNoneMatch.contains(etag))) {
            return responses.response(request, 304, headers, "");
        }
        headers.put(Responses.CONTENT_TYPE, asset.contentType());
        return responses.response(request, 200, headers, asset.body());
    }

    /** Returns the {@code Surrogate-Key} value: space-separated keys, the asset's own key first. */
    private static String surrogateKeys(StaticAsset asset) {
        var keys = new StringBuilder(asset.cacheKey());
        for (String key : asset.surrogateKeys()) {
            if (!key.equals(asset.cacheKey())) {
                keys.append(' ').append(key);
            }
        }
        return keys.toString();
    }
}
