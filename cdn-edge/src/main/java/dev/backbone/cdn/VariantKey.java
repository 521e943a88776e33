package dev.backbone.cdn;

import java.util.List;
import java.util.function.Function;

/**
 * Builds the part of a cache key that a response's {@code Vary} header selects: the request's values of the named
 * headers, whitespace-trimmed, with an absent header distinct from an empty one.
 */
final class VariantKey {

    private static final String ABSENT = "\u0000";

    private VariantKey() {
    }

    /**
     * @param varyNames     lower-case header names from {@code Vary}
     * @param requestHeader returns a request header's values joined with ", ", or null when absent
     */
    static String of(List<String> varyNames, Function<String, String> requestHeader) {
        if (varyNames.isEmpty()) {
            return "";
        }
        var key = new StringBuilder();
        for (String name : varyNames) {
            String value = requestHeader.apply(name);
            key.append(name).append('=').append(value == null ? ABSENT : value.trim().replaceAll("\\s+", " ")).append('\n');
        }
        return key.toString();
    }
}
