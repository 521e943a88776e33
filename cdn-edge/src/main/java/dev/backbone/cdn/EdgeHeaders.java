package dev.backbone.cdn;

import java.util.Locale;
import java.util.Set;

/** Header names the edge reads or writes, and the headers it never forwards. */
final class EdgeHeaders {

    /** The shared secret that marks a request to the origin as coming from an edge. */
    static final String EDGE_TOKEN = "X-Backbone-Edge-Token";
    /** The region of the edge that forwarded a request to the origin. */
    static final String EDGE_REGION = "X-Backbone-Edge-Region";
    /** The source of the response: {@code HIT}, {@code MISS}, {@code STALE}, {@code REVALIDATED} or {@code PASS}. */
    static final String X_CACHE = "X-Cache";
    /** Space-separated surrogate keys of an origin response, such as {@code product:42 category:7}. */
    static final String SURROGATE_KEY = "Surrogate-Key";
    static final String SURROGATE_CONTROL = "Surrogate-Control";

    /** Headers of one connection (RFC 9110 section 7.6.1), never copied between client and origin. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "te", "trailer",
            "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authorization", "content-length", "host");

    /** Request headers the edge evaluates itself and so never forwards on a cacheable fetch. */
    private static final Set<String> CONDITIONAL_REQUEST = Set.of("if-none-match", "if-modified-since", "if-match",
            "if-unmodified-since", "if-range", "range");

    /** Response headers meant for the edge only, removed from responses to clients. */
    private static final Set<String> EDGE_ONLY_RESPONSE = Set.of("surrogate-key", "surrogate-control", "age");

    private EdgeHeaders() {
    }

    static boolean isHopByHop(String name) {
        return HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT));
    }

    static boolean isConditionalRequest(String name) {
        return CONDITIONAL_REQUEST.contains(name.toLowerCase(Locale.ROOT));
    }

    static boolean isEdgeOnlyResponse(String name) {
        return EDGE_ONLY_RESPONSE.contains(name.toLowerCase(Locale.ROOT));
    }
}
