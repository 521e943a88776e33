package dev.backbone.cdn;

import java.util.Locale;

/** The source of an edge response: the value of {@code X-Cache} and of the metric tag {@code result}. */
enum CacheResult {
    /** From the cache, fresh. */
    HIT,
    /** From the origin: not cached, or the cached response could not be used. */
    MISS,
    /** From the cache although stale: during {@code stale-while-revalidate}, or {@code stale-if-error} when the origin failed. */
    STALE,
    /** From the cache after the origin confirmed with 304 that it is still current. */
    REVALIDATED,
    /** Forwarded to the origin without looking at the cache: methods other than GET and HEAD, or an Authorization header. */
    PASS;

    String tag() {
        return name().toLowerCase(Locale.ROOT);
    }
}
