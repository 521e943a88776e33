package dev.backbone.cdn;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Builds the response a client receives from a cached or fetched origin response: edge-only and hop-by-hop headers
 * removed, {@code Age} and {@code X-Cache} added, conditional requests resolved with 304 (RFC 9110 section 13.2.2),
 * and a single byte range of a 200 served as 206 (RFC 9110 section 14). Stateless.
 */
final class ClientResponses {

    /** Headers a 304 carries over from the full response (RFC 9110 section 15.4.5). */
    private static final Set<String> NOT_MODIFIED_HEADERS = Set.of("etag", "cache-control", "expires", "vary",
            "content-location", "date", "last-modified");

    private ClientResponses() {
    }

    /**
     * @param ageSeconds the value of {@code Age}
     */
    static EdgeResponse build(EdgeRequest request, int status, List<Header> originHeaders, byte[] body, long ageSeconds,
            CacheResult result) {
        List<Header> headers = new ArrayList<>();
        for (Header header : originHeaders) {
            if (!EdgeHeaders.isHopByHop(header.name()) && !EdgeHeaders.isEdgeOnlyResponse(header.name())) {
                headers.add(header);
            }
        }
        headers.add(new Header("Age", Long.toString(ageSeconds)));
        headers.add(new Header(EdgeHeaders.X_CACHE, result.name()));
        boolean head = request.method().equals("HEAD");

        if (status == 200 && result != CacheResult.PASS && notModified(request, originHeaders)) {
            List<Header> kept = headers.stream()
                    .filter(header -> NOT_MODIFIED_HEADERS.contains(header.lowerCaseName())
                            || header.name().equals("Age") || header.name().equals(EdgeHeaders.X_CACHE))
                    .toList();
            return new EdgeResponse(304, kept, new byte[0], result);
        }
        if (status == 200 && result != CacheResult.PASS && request.header("Range") != null
                && ifRangeMatches(request, originHeaders)) {
            Optional<EdgeResponse> partial = range(request.header("Range"), headers, body, head, result);
            if (partial.isPresent()) {
                return partial.get();
            }
        }
        if (head) {
            headers.add(new Header("Content-Length", Integer.toString(body.length)));
            return new EdgeResponse(status, headers, new byte[0], result);
        }
        return new EdgeResponse(status, headers, body, result);
    }

    /** Returns an error the edge itself produced, never stored. */
    static EdgeResponse error(int status, String message, CacheResult result) {
        return new EdgeResponse(status, List.of(
                new Header("Content-Type", "text/plain; charset=utf-8"),
                new Header("Cache-Control", "no-store"),
                new Header(EdgeHeaders.X_CACHE, result.name())),
                (message + "\n").getBytes(StandardCharsets.UTF_8), result);
    }

    private static boolean notModified(EdgeRequest request, List<Header> headers) {
        String ifNoneMatch = request.header("If-None-Match");
        if (ifNoneMatch != null) {
            String etag = Header.first(headers, "ETag");
            if (ifNoneMatch.trim().equals("*")) {
                return true;
            }
            return etag != null && Arrays.stream(ifNoneMatch.split(","))
                    .map(String::trim)
                    .anyMatch(candidate -> weakTag(candidate).equals(weakTag(etag.trim())));
        }
        Optional<Long> ifModifiedSince = CachePolicy.httpDate(request.header("If-Modified-Since"));
        Optional<Long> lastModified = CachePolicy.httpDate(Header.first(headers, "Last-Modified"));
        return ifModifiedSince.isPresent() && lastModified.isPresent() && lastModified.get() <= ifModifiedSince.get();
    }

    /** Returns the opaque tag without the weak prefix, for the weak comparison that If-None-Match uses. */
    private static String weakTag(String etag) {
        return etag.startsWith("W/") ? etag.substring(2) : etag;
    }

    /** Returns whether a Range applies: no If-Range, or one that matches the strong ETag or the Last-Modified date. */
    private static boolean ifRangeMatches(EdgeRequest request, List<Header> headers) {
        String ifRange = request.header("If-Range");
        if (ifRange == null) {
            return true;
        }
        String etag = Header.first(headers, "ETag");
        if (ifRange.trim().startsWith("\"") || ifRange.trim().startsWith("W/")) {
            return etag != null && !etag.startsWith("W/") && etag.trim().equals(ifRange.trim());
        }
        String lastModified = Header.first(headers, "Last-Modified");
        return lastModified != null && lastModified.trim().equals(ifRange.trim());
    }

    /**
     * Serves one byte range, {@code bytes=first-last}, {@code bytes=first-} or {@code bytes=-suffix}. Returns empty for
     * other units, several ranges or a malformed header, for which RFC 9110 lets a server send the full 200.
     */
    private static Optional<EdgeResponse> range(String rangeHeader, List<Header> headers, byte[] body, boolean head,
            CacheResult result) {
        String range = rangeHeader.trim();
        if (!range.startsWith("bytes=") || range.contains(",")) {
            return Optional.empty();
        }
        String spec = range.substring("bytes=".length()).trim();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return Optional.empty();
        }
        long length = body.length;
        long first;
        long last;
        try {
            if (dash == 0) {
                long suffix = Long.parseLong(spec.substring(1));
                first = Math.max(0, length - suffix);
                last = length - 1;
            } else {
                first = Long.parseLong(spec.substring(0, dash));
                last = dash == spec.length() - 1 ? length - 1 : Math.min(length - 1, Long.parseLong(spec.substring(dash + 1)));
            }
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (first >= length || first > last) {
            List<Header> unsatisfiable = new ArrayList<>(headers);
            unsatisfiable.add(new Header("Content-Range", "bytes */" + length));
            return Optional.of(new EdgeResponse(416, unsatisfiable, new byte[0], result));
        }
        List<Header> partialHeaders = new ArrayList<>(headers);
        partialHeaders.add(new Header("Content-Range", "bytes " + first + "-" + last + "/" + length));
        byte[] part = Arrays.copyOfRange(body, (int) first, (int) last + 1);
        if (head) {
            partialHeaders.add(new Header("Content-Length", Integer.toString(part.length)));
            return Optional.of(new EdgeResponse(206, partialHeaders, new byte[0], result));
        }
        return Optional.of(new EdgeResponse(206, partialHeaders, part, result));
    }
}
