package dev.backbone.cdn;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Decides whether an origin response may be stored by a shared cache, and for how long it is fresh (RFC 9111
 * sections 3 and 4.2, RFC 5861). Stateless.
 *
 * <p>Stored: a response to GET with status 200, 203, 204, 300, 301, 308, 404 or 410, no {@code no-store}, no
 * {@code private}, no {@code Set-Cookie}, no {@code Vary: *}, and an explicit lifetime from {@code s-maxage},
 * {@code max-age} or {@code Expires}. Responses without one are not stored: the edge applies no heuristic freshness.
 * A 206 is never stored, because it is a part of an object and not the object.
 */
final class CachePolicy {

    private static final Set<Integer> STORABLE_STATUSES = Set.of(200, 203, 204, 300, 301, 308, 404, 410);

    private CachePolicy() {
    }

    /**
     * Returns the response to store, or empty when it must not be stored.
     *
     * @param requestHeader the request's header values joined with ", ", for the {@code Vary} key
     */
    static Optional<CachedResponse> storable(int status, List<Header> headers, byte[] body,
            Function<String, String> requestHeader, long nowMs) {
        if (!STORABLE_STATUSES.contains(status) || Header.first(headers, "Set-Cookie") != null) {
            return Optional.empty();
        }
        List<String> varyNames = varyNames(headers);
        if (varyNames.contains("*")) {
            return Optional.empty();
        }
        return withFreshness(status, headers, body, nowMs, varyNames, VariantKey.of(varyNames, requestHeader));
    }

    /**
     * Returns the stored response updated by a 304 from a revalidation (RFC 9111 section 4.3.4): the 304's headers
     * replace the stored ones of the same name, and freshness starts again. Empty when the updated headers forbid
     * storing.
     */
    static Optional<CachedResponse> revalidated(CachedResponse stored, List<Header> notModifiedHeaders, long nowMs) {
        Set<String> replaced = new LinkedHashSet<>();
        for (Header header : notModifiedHeaders) {
            replaced.add(header.lowerCaseName());
        }
        replaced.remove("content-length");
        List<Header> merged = new ArrayList<>();
        for (Header header : stored.headers()) {
            if (!replaced.contains(header.lowerCaseName())) {
                merged.add(header);
            }
        }
        for (Header header : notModifiedHeaders) {
            if (replaced.contains(header.lowerCaseName())) {
                merged.add(header);
            }
        }
        return withFreshness(stored.status(), merged, stored.body(), nowMs, stored.varyNames(), stored.variantKey());
    }

    private static Optional<CachedResponse> withFreshness(int status, List<Header> headers, byte[] body, long nowMs,
            List<String> varyNames, String variantKey) {
        CacheControl cacheControl = CacheControl.parse(Header.joined(headers, "Cache-Control"));
        if (cacheControl.noStore() || cacheControl.isPrivate()) {
            return Optional.empty();
        }
        long lifetimeMs = lifetimeMs(cacheControl, headers);
        if (lifetimeMs < 0) {
            return Optional.empty();
        }
        if (cacheControl.noCache()) {
            lifetimeMs = 0;
        }
        long initialAgeMs = ageSeconds(headers) * 1000;
        boolean staleAllowed = !cacheControl.mustRevalidate() && !cacheControl.noCache();
        long staleWhileRevalidateMs = staleAllowed ? Math.max(0, cacheControl.staleWhileRevalidate()) * 1000 : 0;
        long staleIfErrorMs = staleAllowed ? Math.max(0, cacheControl.staleIfError()) * 1000 : 0;
        List<Header> stored = headers.stream().filter(header -> !header.name().equalsIgnoreCase("Age")).toList();
        return Optional.of(new CachedResponse(status, stored, body, nowMs, initialAgeMs, nowMs + lifetimeMs - initialAgeMs,
                staleWhileRevalidateMs, staleIfErrorMs, Header.first(headers, "ETag"), Header.first(headers, "Last-Modified"),
                surrogateKeys(headers), varyNames, variantKey));
    }

    /** Returns the lifetime from s-maxage, max-age or Expires minus Date, or -1 when the response states none. */
    private static long lifetimeMs(CacheControl cacheControl, List<Header> headers) {
        long seconds = cacheControl.sharedFreshnessLifetime();
        if (seconds >= 0) {
            return seconds * 1000;
        }
        String expires = Header.first(headers, "Expires");
        if (expires == null) {
            return -1;
        }
        Optional<Long> expiresAt = httpDate(expires);
        Optional<Long> date = httpDate(Header.first(headers, "Date"));
        // An invalid Expires, such as "0", means already expired (RFC 9111 section 5.3).
        if (expiresAt.isEmpty() || date.isEmpty()) {
            return 0;
        }
        return Math.max(0, expiresAt.get() - date.get());
    }

    private static long ageSeconds(List<Header> headers) {
        String age = Header.first(headers, "Age");
        if (age == null || age.isBlank() || !age.trim().chars().allMatch(Character::isDigit) || age.trim().length() > 10) {
            return 0;
        }
        return Long.parseLong(age.trim());
    }

    /** Parses an IMF-fixdate such as {@code Sun, 06 Nov 1994 08:49:37 GMT} to epoch milliseconds. */
    static Optional<Long> httpDate(String value) {
        if (value == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli());
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    static List<String> varyNames(List<Header> headers) {
        String vary = Header.joined(headers, "Vary");
        if (vary == null || vary.isBlank()) {
            return List.of();
        }
        return Arrays.stream(vary.split(","))
                .map(name -> name.trim().toLowerCase(Locale.ROOT))
                .filter(name -> !name.isEmpty())
                .distinct()
                .toList();
    }

    static Set<String> surrogateKeys(List<Header> headers) {
        String keys = Header.joined(headers, EdgeHeaders.SURROGATE_KEY);
        if (keys == null || keys.isBlank()) {
            return Set.of();
        }
        return Set.copyOf(Arrays.asList(keys.trim().replace(',', ' ').split("\\s+")));
    }
}
