package dev.backbone.ingest;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.HostNames;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.UriCompliance;

/**
 * Checks one line of a batch as the front door checks a single request, and turns it into a {@link ClientRequest}. A
 * single request's path, query and headers are checked by Jetty's parser, and here by the same rules where Jetty has
 * them ({@link UriCompliance#DEFAULT} for the path) and by RFC 3986 and RFC 9110 where it does not.
 */
final class BatchLineValidation {

    /** Longest path and query of a line, as the front door's longest request line (Jetty's default request header size). */
    static final int MAX_TARGET_CHARS = 8192;
    /** Largest total of a line's header names and values, as the front door's limit on request headers. */
    static final int MAX_HEADER_CHARS = 8192;

    static final String METHOD_RULE = "an HTTP method: 1 to 32 letters, digits or !#$%&'*+.^_`|~-, such as GET or PUT";
    static final String PATH_RULE = "a request target of at most " + MAX_TARGET_CHARS + " characters: " + JsonErrorHandler.PATH_ACCEPTED
            + ", starting with '/', optionally followed by '?' and a query without spaces, control characters, '#' or "
            + "unpaired surrogates";
    static final String HEADER_NAME_RULE = "an HTTP header name: letters, digits and !#$%&'*+.^_`|~-, other than Host, "
            + "Content-Length, Transfer-Encoding and X-Client-*, which the line's fields set";
    static final String HEADER_VALUE_RULE = "text without control characters other than tab and without unpaired "
            + "surrogates (a \\ud800 to \\udfff escape that is not half of a pair)";
    static final String BODY_RULE = "a JSON string without unpaired surrogates (a \\ud800 to \\udfff escape that is not "
            + "half of a pair), as UTF-8 text cannot carry them";
    static final String HEADERS_SIZE_RULE = "header names and values of at most " + MAX_HEADER_CHARS + " characters in total";

    private static final String TOKEN_SYMBOLS = "!#$%&'*+.^_`|~-";
    /** Headers that the line's own fields decide, or that describe the batch call rather than the request. */
    private static final Set<String> RESERVED_HEADERS = Set.of("host", "content-length", "transfer-encoding", "x-client-id",
            "x-client-region", "x-client-country");
    private static final int MAX_SHOWN_CHARS = 64;
    private static final String HEX_DIGITS = "0123456789ABCDEF";

    private BatchLineValidation() {
    }

    /**
     * The values a batch line falls back to: the batch call's own {@code Host}, {@code X-Client-Id},
     * {@code X-Client-Region} and {@code X-Client-Country} or the front door's defaults.
     */
    record Defaults(String host, String clientId, String region, String country) {
    }

    /**
     * Returns the request event of {@code line}.
     *
     * @throws BatchLineException naming the field, the value and what is accepted, with status 400, or 414 for a long
     *                            target and 431 for large headers, as a single request would get
     */
    static ClientRequest toEvent(BatchLine line, Defaults defaults, String requestId, IngestConfig config)
            throws BatchLineException {
        String method = orDefault(line.method(), "GET");
        require(isToken(method, 32), "method", method, METHOD_RULE);
        if (line.path() == null) {
            throw new BatchLineException("missing field 'path'", Map.of("field", "path", "accepted", PATH_RULE));
        }
        HttpURI target = target(line.path());

        String host = hostWithoutPort(orDefault(line.host(), defaults.host()));
        if (host == null) {
            throw new BatchLineException("missing host: set \"host\" in the line or the Host header of the call",
                    Map.of("field", "host", "accepted", HostNames.RULE));
        }
        try {
            HostNames.canonical(host);
        } catch (IllegalArgumentException e) {
            throw invalid("host", host, HostNames.RULE);
        }
        String clientId = orDefault(line.clientId(), defaults.clientId());
        require(RequestValidation.isValidClientId(clientId), "clientId", clientId, RequestValidation.CLIENT_ID_RULE);
        String region = orDefault(line.region(), defaults.region());
        require(RequestValidation.isValidRegion(region), "region", region, RequestValidation.REGION_RULE);
        String country = orDefault(line.country(), defaults.country());
        require(RequestValidation.isValidCountry(country), "country", country, RequestValidation.COUNTRY_RULE);

        Map<String, String> headers = headers(line.headers(), host);
        int surrogateAt = line.body() == null ? -1 : unpairedSurrogateAt(line.body());
        if (surrogateAt >= 0) {
            int from = Math.max(0, surrogateAt - MAX_SHOWN_CHARS / 2);
            String around = shown(line.body().substring(from));
            String surrogate = "\\u" + Integer.toHexString(line.body().charAt(surrogateAt));
            throw new BatchLineException("invalid body: unpaired surrogate " + surrogate + " at character " + (surrogateAt + 1),
                    Map.of("field", "body", "value", (from > 0 ? "..." : "") + around, "accepted", BODY_RULE));
        }
        long now = System.currentTimeMillis();
        // No deadline: nobody waits for the answer, so an app server answers it however late it reads it.
        return new ClientRequest(ClientRequest.SCHEMA_VERSION, requestId, clientId, region, country, host,
                method.toUpperCase(Locale.ROOT), target.getDecodedPath(), target.getQuery() == null ? "" : target.getQuery(),
                headers, line.body(), config.ingestId(), config.replyPartition(), now, 0);
    }

    private static HttpURI target(String path) throws BatchLineException {
        if (path.length() > MAX_TARGET_CHARS) {
            throw new BatchLineException(414, "path of " + path.length() + " characters is longer than " + MAX_TARGET_CHARS,
                    Map.of("field", "path", "value", shown(path), "accepted", PATH_RULE));
        }
        if (!path.startsWith("/") || path.startsWith("//")) {
            throw invalid("path", path, PATH_RULE);
        }
        if (unpairedSurrogateAt(path) >= 0) {
            throw invalid("path", path, PATH_RULE);
        }
        HttpURI uri;
        try {
            uri = HttpURI.from(asRequestLine(path));
        } catch (RuntimeException e) {
            // IllegalArgumentException for a bad escape. Jetty 12.1 threw an index error for some non-ASCII characters,
            // which asRequestLine now encodes; any other parser error is a bad path too.
            throw invalid("path", path, PATH_RULE);
        }
        boolean compliant = uri.getViolations().stream().allMatch(UriCompliance.DEFAULT::allows);
        String decoded = compliant ? uri.getDecodedPath() : null;
        if (decoded == null || decoded.isEmpty() || !isText(decoded)) {
            throw invalid("path", path, PATH_RULE);
        }
        if (uri.getQuery() != null && !isQuery(uri.getQuery())) {
            String shown = shown(uri.getQuery());
            throw new BatchLineException("invalid query '" + shown + "' in path", Map.of("field", "path", "value", shown,
                    "accepted", PATH_RULE));
        }
        return uri;
    }

    private static Map<String, String> headers(Map<String, String> given, String host) throws BatchLineException {
        var headers = new LinkedHashMap<String, String>();
        int size = 0;
        if (given != null) {
            for (var header : given.entrySet()) {
                String name = header.getKey();
                String lowerCase = name.toLowerCase(Locale.ROOT);
                require(isToken(name, 256) && !RESERVED_HEADERS.contains(lowerCase), "headers", name, HEADER_NAME_RULE);
                String value = header.getValue();
                require(value != null && isText(value), "headers." + shown(name), String.valueOf(value), HEADER_VALUE_RULE);
                size += name.length() + value.length();
                if (size > MAX_HEADER_CHARS) {
                    throw new BatchLineException(431, "headers are larger than " + MAX_HEADER_CHARS + " characters",
                            Map.of("field", "headers", "accepted", HEADERS_SIZE_RULE));
                }
                headers.merge(lowerCase, value, (a, b) -> a + ", " + b);
            }
        }
        // A single request's event carries the Host header it arrived with; the line's host is its counterpart.
        headers.put("host", host);
        return headers;
    }

    /** Returns whether {@code value} is an RFC 9110 token of at most {@code maxLength} characters. */
    private static boolean isToken(String value, int maxLength) {
        if (value.isEmpty() || value.length() > maxLength) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!RequestValidation.isAsciiLetterOrDigit(c) && TOKEN_SYMBOLS.indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Returns whether {@code query} could arrive in a request line: no spaces, control characters, '#' or unpaired
     * surrogates. Jetty accepts more than RFC 3986 allows in a query, such as {@code [}, {@code |} and a lone {@code %},
     * and so do lines.
     */
    private static boolean isQuery(String query) {
        for (int i = 0; i < query.length(); i++) {
            char c = query.charAt(i);
            if (c <= ' ' || c == 0x7F || c == '#') {
                return false;
            }
        }
        return unpairedSurrogateAt(query) < 0;
    }

    /** Returns whether {@code value} has no control characters other than tab and no unpaired surrogates. */
    static boolean isText(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 && c != '\t' || c == 0x7F) {
                return false;
            }
            if (Character.isSurrogate(c)) {
                if (!isPairAt(value, i)) {
                    return false;
                }
                i++;
            }
        }
        return true;
    }

    /**
     * Returns {@code target} with the non-ASCII characters of its path percent-encoded as UTF-8, which is how Jetty
     * decodes the raw UTF-8 bytes of a request line's path; the query stays as it is, as a single request's does.
     */
    private static String asRequestLine(String target) {
        int queryStart = target.indexOf('?');
        String path = queryStart < 0 ? target : target.substring(0, queryStart);
        boolean ascii = true;
        for (int i = 0; i < path.length() && ascii; i++) {
            ascii = path.charAt(i) < 0x80;
        }
        if (ascii) {
            return target;
        }
        var encoded = new StringBuilder(target.length() + 16);
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c < 0x80) {
                encoded.append(c);
                continue;
            }
            int end = Character.isHighSurrogate(c) ? i + 2 : i + 1;
            for (byte b : path.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
                encoded.append('%').append(HEX_DIGITS.charAt(b >> 4 & 0xF)).append(HEX_DIGITS.charAt(b & 0xF));
            }
            i = end - 1;
        }
        return queryStart < 0 ? encoded.toString() : encoded.append(target, queryStart, target.length()).toString();
    }

    /**
     * Returns the index of the first surrogate in {@code value} that is not half of a pair, or -1. A JSON escape of
     * U+D800 alone decodes to one; a request read as UTF-8 never carries one.
     */
    static int unpairedSurrogateAt(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (Character.isSurrogate(value.charAt(i))) {
                if (!isPairAt(value, i)) {
                    return i;
                }
                i++;
            }
        }
        return -1;
    }

    /** Returns whether a high surrogate at {@code index} is followed by a low surrogate. */
    private static boolean isPairAt(String value, int index) {
        return Character.isHighSurrogate(value.charAt(index)) && index + 1 < value.length()
                && Character.isLowSurrogate(value.charAt(index + 1));
    }

    private static String hostWithoutPort(String host) {
        if (host == null) {
            return null;
        }
        int colon = host.lastIndexOf(':');
        if (colon > 0 && colon < host.length() - 1 && host.substring(colon + 1).chars().allMatch(Character::isDigit)) {
            return host.substring(0, colon);
        }
        return host;
    }

    private static String orDefault(String value, String defaultValue) {
        // strip(), not trim(): trim() would also remove control characters such as NUL, which the checks must see.
        return value == null || value.isBlank() ? defaultValue : value.strip();
    }

    private static void require(boolean valid, String field, String value, String rule) throws BatchLineException {
        if (!valid) {
            throw invalid(field, value, rule);
        }
    }

    private static BatchLineException invalid(String field, String value, String rule) {
        String shown = shown(value);
        return new BatchLineException("invalid " + field + " '" + shown + "'", Map.of("field", field, "value", shown, "accepted", rule));
    }

    /**
     * Returns {@code value} as error messages show it: at most {@value #MAX_SHOWN_CHARS} characters, without splitting a
     * surrogate pair, and with control characters and unpaired surrogates written as escapes such as {@code \r\n}.
     */
    static String shown(String value) {
        if (value == null) {
            return "";
        }
        String cut = value;
        if (value.length() > MAX_SHOWN_CHARS) {
            int end = Character.isHighSurrogate(value.charAt(MAX_SHOWN_CHARS - 1)) ? MAX_SHOWN_CHARS - 1 : MAX_SHOWN_CHARS;
            cut = value.substring(0, end) + "...";
        }
        return printable(cut);
    }

    /** Returns {@code value} with control characters and unpaired surrogates written as escapes, such as {@code \r\n}. */
    static String printable(String value) {
        if (isText(value) && value.indexOf('\t') < 0) {
            return value;
        }
        var shown = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\r' -> shown.append("\\r");
                case '\n' -> shown.append("\\n");
                case '\t' -> shown.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7F || Character.isSurrogate(c) && !isPairAt(value, i)
                            && !(i > 0 && Character.isLowSurrogate(c) && isPairAt(value, i - 1))) {
                        shown.append(String.format("\\u%04x", (int) c));
                    } else {
                        shown.append(c);
                    }
                }
            }
        }
        return shown.toString();
    }
}
