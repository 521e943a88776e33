package dev.backbone.cdn;

import java.util.Locale;

/**
 * The {@code Cache-Control} directives of an origin response that a shared cache acts on (RFC 9111 section 5.2.2,
 * RFC 5861). Durations are in seconds, -1 when absent. Unknown directives are ignored.
 *
 * @param noStore              {@code no-store}: never stored
 * @param noCache              {@code no-cache}: stored, but revalidated before every use
 * @param isPrivate            {@code private}: for one user, never stored by a shared cache
 * @param mustRevalidate       {@code must-revalidate} or {@code proxy-revalidate}: never served stale
 * @param maxAge               {@code max-age}
 * @param sharedMaxAge         {@code s-maxage}, which takes precedence over {@code max-age} in a shared cache
 * @param staleWhileRevalidate {@code stale-while-revalidate}: how long a stale response may be served while one
 *                             background fetch refreshes it
 * @param staleIfError         {@code stale-if-error}: how long a stale response may be served when the origin fails
 */
record CacheControl(
        boolean noStore,
        boolean noCache,
        boolean isPrivate,
        boolean mustRevalidate,
        long maxAge,
        long sharedMaxAge,
        long staleWhileRevalidate,
        long staleIfError) {

    static final CacheControl NONE = new CacheControl(false, false, false, false, -1, -1, -1, -1);

    /** Parses the comma-separated directives of every {@code Cache-Control} field, or returns {@link #NONE} for null. */
    static CacheControl parse(String value) {
        if (value == null || value.isBlank()) {
            return NONE;
        }
        boolean noStore = false;
        boolean noCache = false;
        boolean isPrivate = false;
        boolean mustRevalidate = false;
        long maxAge = -1;
        long sharedMaxAge = -1;
        long staleWhileRevalidate = -1;
        long staleIfError = -1;
        for (String directive : splitDirectives(value)) {
            int equals = directive.indexOf('=');
            String name = (equals < 0 ? directive : directive.substring(0, equals)).trim().toLowerCase(Locale.ROOT);
            String argument = equals < 0 ? null : unquote(directive.substring(equals + 1).trim());
            switch (name) {
                case "no-store" -> noStore = true;
                case "no-cache" -> noCache = true;
                // A field list (private="Set-Cookie") is treated like plain private: the edge does not strip fields.
                case "private" -> isPrivate = true;
                case "must-revalidate", "proxy-revalidate" -> mustRevalidate = true;
                // RFC 9111 section 4.2.1 encourages treating an invalid lifetime as stale, so it counts as 0.
                case "max-age" -> maxAge = seconds(argument, 0);
                case "s-maxage" -> sharedMaxAge = seconds(argument, 0);
                // An invalid stale window is ignored, so the response is never served stale on its strength.
                case "stale-while-revalidate" -> staleWhileRevalidate = seconds(argument, -1);
                case "stale-if-error" -> staleIfError = seconds(argument, -1);
                default -> {
                    // Not a directive this cache acts on.
                }
            }
        }
        return new CacheControl(noStore, noCache, isPrivate, mustRevalidate, maxAge, sharedMaxAge, staleWhileRevalidate,
                staleIfError);
    }

    /** Returns the freshness lifetime in seconds from {@code s-maxage}, else {@code max-age}, or -1 when neither is set. */
    long sharedFreshnessLifetime() {
        return sharedMaxAge >= 0 ? sharedMaxAge : maxAge;
    }

    /** Splits at commas outside quoted strings. */
    private static java.util.List<String> splitDirectives(String value) {
        var directives = new java.util.ArrayList<String>();
        var current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                directives.add(current.toString().trim());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        directives.add(current.toString().trim());
        directives.removeIf(String::isEmpty);
        return directives;
    }

    private static String unquote(String argument) {
        if (argument.length() >= 2 && argument.startsWith("\"") && argument.endsWith("\"")) {
            return argument.substring(1, argument.length() - 1);
        }
        return argument;
    }

    /** Parses delta-seconds, or returns {@code invalid} for a missing or malformed value. */
    private static long seconds(String argument, long invalid) {
        if (argument == null || argument.isEmpty() || !argument.chars().allMatch(Character::isDigit)) {
            return invalid;
        }
        // Values above 2^31 seconds are capped there (RFC 9111 section 1.2.2).
        return argument.length() > 10 ? Integer.MAX_VALUE : Math.min(Long.parseLong(argument), Integer.MAX_VALUE);
    }
}
