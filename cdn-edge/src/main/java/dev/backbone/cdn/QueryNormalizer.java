package dev.backbone.cdn;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Normalizes a query string so that equivalent requests share one cache key: parameters sorted by name and then value
 * (so the order of a repeated name's values does not count), empty segments ({@code a=1&&b=2}, a trailing
 * {@code &} or a bare {@code ?}) dropped, {@code a} written as {@code a=}, and every name and value percent-decoded
 * and re-encoded the same way: {@code +} and {@code %20} both become {@code %20}, as form decoding reads them alike.
 * Parameters with an empty value are kept, because {@code ?debug=} and no {@code debug} at all can differ at the
 * origin. The edge also sends the normalized query to the origin, so the cached response matches its key.
 */
final class QueryNormalizer {

    private record Parameter(String name, String value) {
    }

    private QueryNormalizer() {
    }

    /** Returns the normalized query without a leading {@code ?}, or an empty string for none. */
    static String normalize(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return "";
        }
        List<Parameter> parameters = new ArrayList<>();
        for (String segment : rawQuery.split("&")) {
            if (segment.isEmpty()) {
                continue;
            }
            int equals = segment.indexOf('=');
            String name = equals < 0 ? segment : segment.substring(0, equals);
            String value = equals < 0 ? "" : segment.substring(equals + 1);
            parameters.add(new Parameter(decode(name), decode(value)));
        }
        parameters.sort(Comparator.comparing(Parameter::name).thenComparing(Parameter::value));
        var normalized = new StringBuilder();
        for (Parameter parameter : parameters) {
            if (!normalized.isEmpty()) {
                normalized.append('&');
            }
            normalized.append(encode(parameter.name())).append('=').append(encode(parameter.value()));
        }
        return normalized.toString();
    }

    /** Decodes {@code +} and {@code %XX}, keeping an invalid escape literally. */
    private static String decode(String text) {
        var bytes = new ByteArrayOutputStream(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '+') {
                bytes.write(' ');
            } else if (c == '%' && i + 2 < text.length() && hex(text.charAt(i + 1)) >= 0 && hex(text.charAt(i + 2)) >= 0) {
                bytes.write(hex(text.charAt(i + 1)) * 16 + hex(text.charAt(i + 2)));
                i += 2;
            } else {
                byte[] utf8 = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                if (Character.isHighSurrogate(c) && i + 1 < text.length()) {
                    utf8 = text.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                    i++;
                }
                bytes.writeBytes(utf8);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }

    /** Percent-encodes every byte outside the unreserved characters of RFC 3986, with upper-case hex digits. */
    private static String encode(String text) {
        var encoded = new StringBuilder(text.length());
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
                encoded.append((char) c);
            } else {
                encoded.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return encoded.toString();
    }
}
