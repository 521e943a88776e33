package dev.backbone.cdn;

import java.util.List;

/**
 * A client request as the edge receives it.
 *
 * @param method   the HTTP method
 * @param host     the Host header, or the request URI's authority
 * @param rawPath  the path as sent, percent-encoding kept
 * @param rawQuery the query as sent, without {@code ?}, or null
 * @param headers  every header field
 * @param body     the request body, empty for none
 */
record EdgeRequest(String method, String host, String rawPath, String rawQuery, List<Header> headers, byte[] body) {

    EdgeRequest {
        headers = List.copyOf(headers);
    }

    /** Returns a header's values joined with ", ", or null when absent. */
    String header(String name) {
        return Header.joined(headers, name);
    }
}
