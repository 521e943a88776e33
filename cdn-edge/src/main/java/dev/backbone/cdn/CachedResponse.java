package dev.backbone.cdn;

import java.util.List;
import java.util.Set;

/**
 * One stored origin response, a variant of one cache key. Immutable; a soft purge or a revalidation makes a copy.
 * Times are epoch milliseconds of the edge's clock.
 *
 * @param status                 the origin's status code
 * @param headers                the origin's end-to-end headers, without {@code Age}
 * @param body                   the body; the array is never modified after construction
 * @param storedAtMs             when the response arrived
 * @param initialAgeMs           the origin's {@code Age}, how old the response already was when it arrived
 * @param staleAtMs              when the response stops being fresh; a soft purge moves it to the purge time
 * @param staleWhileRevalidateMs how long after {@code staleAtMs} it may be served while a background fetch refreshes it
 * @param staleIfErrorMs         how long after {@code staleAtMs} it may be served when the origin fails
 * @param etag                   the {@code ETag}, or null
 * @param lastModified           the {@code Last-Modified} as sent, or null
 * @param surrogateKeys          the keys of the origin's {@code Surrogate-Key} header
 * @param varyNames              the lower-case header names of the origin's {@code Vary} header
 * @param variantKey             the request's values of those headers, as built by {@link VariantKey}
 */
record CachedResponse(
        int status,
        List<Header> headers,
        byte[] body,
        long storedAtMs,
        long initialAgeMs,
        long staleAtMs,
        long staleWhileRevalidateMs,
        long staleIfErrorMs,
        String etag,
        String lastModified,
        Set<String> surrogateKeys,
        List<String> varyNames,
        String variantKey) {

    CachedResponse {
        headers = List.copyOf(headers);
        surrogateKeys = Set.copyOf(surrogateKeys);
        varyNames = List.copyOf(varyNames);
    }

    boolean isFresh(long nowMs) {
        return nowMs < staleAtMs;
    }

    /** Returns whether a stale response may be served while one background fetch refreshes it. */
    boolean servableWhileRevalidating(long nowMs) {
        return !isFresh(nowMs) && nowMs - staleAtMs < staleWhileRevalidateMs;
    }

    /** Returns whether a stale response may be served because the origin failed. */
    boolean servableOnError(long nowMs) {
        return !isFresh(nowMs) && nowMs - staleAtMs < staleIfErrorMs;
    }

    /** Returns the value of the {@code Age} header: whole seconds since the origin generated the response. */
    long ageSeconds(long nowMs) {
        return Math.max(0, initialAgeMs + nowMs - storedAtMs) / 1000;
    }

    /** Returns a copy that is stale from {@code nowMs} on, unless it is stale already. */
    CachedResponse staleFrom(long nowMs) {
        if (staleAtMs <= nowMs) {
            return this;
        }
        return new CachedResponse(status, headers, body, storedAtMs, initialAgeMs, nowMs, staleWhileRevalidateMs,
                staleIfErrorMs, etag, lastModified, surrogateKeys, varyNames, variantKey);
    }

    /** Returns an estimate of the memory this response uses, in bytes. */
    long sizeBytes() {
        long size = 256L + body.length + variantKey.length() * 2L;
        for (Header header : headers) {
            size += 64 + 2L * (header.name().length() + header.value().length());
        }
        return size;
    }
}
