package dev.backbone.ingest;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The per-client rate limit of the front door: one {@link TokenBucket} per client id, kept in a Caffeine cache. A
 * bucket that was not used for as long as it takes to refill from empty is full again, so it can expire from then on
 * without changing any decision; {@link IngestConfig.RateLimit#maxClients()} bounds the buckets kept at once.
 * Thread-safe.
 */
final class ClientRateLimiter {

    /**
     * Caffeine 3.3 skips recording a read that comes within one second of the recorded access time, so an entry can
     * expire up to this much earlier than its last read plus the expiry; the expiry is this much longer to make up for it.
     */
    static final Duration ACCESS_TIME_TOLERANCE = Duration.ofSeconds(1);

    private final IngestConfig.RateLimit limit;
    private final LongSupplier nanoTime;
    private final Cache<String, TokenBucket> buckets;

    /**
     * @param nanoTime the monotonic clock of the buckets and of their expiry, such as {@code System::nanoTime}
     */
    ClientRateLimiter(IngestConfig.RateLimit limit, LongSupplier nanoTime) {
        if (!limit.enabled()) {
            throw new IllegalArgumentException("the rate limit is off (rate.limit.per.second=0); create no limiter");
        }
        this.limit = limit;
        this.nanoTime = nanoTime;
        this.buckets = Caffeine.newBuilder()
                .maximumSize(limit.maxClients())
                .expireAfterAccess(refillTime(limit).plus(ACCESS_TIME_TOLERANCE))
                .ticker(nanoTime::getAsLong)
                // Expiry and eviction run on the calling thread, which keeps them in step with the injected clock.
                .executor(Runnable::run)
                .build();
    }

    /** Returns how long an empty bucket takes to fill up: {@code burst / ratePerSecond}, at least 1 ms. */
    static Duration refillTime(IngestConfig.RateLimit limit) {
        double nanos = Math.ceil(limit.burst() / limit.ratePerSecond() * 1e9);
        return Duration.ofNanos(Math.max(TimeUnit.MILLISECONDS.toNanos(1), (long) nanos));
    }

    /**
     * Takes one token from the bucket of {@code clientId}.
     *
     * @return 0 when the request may go on, else the nanoseconds until the client may send again
     */
    long tryAcquire(String clientId) {
        long now = nanoTime.getAsLong();
        return buckets.get(clientId, id -> new TokenBucket(limit.ratePerSecond(), limit.burst(), now)).tryTake(now);
    }

    /** Returns {@code Retry-After} in whole seconds for a wait: rounded up, at least 1. */
    static long retryAfterSeconds(long waitNanos) {
        return Math.max(1, (waitNanos + TimeUnit.SECONDS.toNanos(1) - 1) / TimeUnit.SECONDS.toNanos(1));
    }

    /** Returns how many clients have a bucket now, after dropping the expired ones. */
    long trackedClients() {
        buckets.cleanUp();
        return buckets.estimatedSize();
    }

    IngestConfig.RateLimit limit() {
        return limit;
    }

    /** A client's request rejected by the limit: the message and detail fields that the client is shown. */
    record Rejection(String message, Map<String, String> fields, long retryAfterSeconds) {
    }

    /** Returns what to tell {@code clientId}, which must wait {@code waitNanos} for its next token. */
    Rejection rejection(String clientId, long waitNanos) {
        long retryAfter = retryAfterSeconds(waitNanos);
        String rate = BigDecimal.valueOf(limit.ratePerSecond()).stripTrailingZeros().toPlainString();
        String message = "client '" + clientId + "' exceeded the rate limit of " + rate + " requests per second with "
                + "bursts of up to " + limit.burst() + " (rate.limit.per.second, rate.limit.burst); retry after "
                + retryAfter + " s";
        return new Rejection(message, Map.of(
                "client", clientId,
                "ratePerSecond", rate,
                "burst", Integer.toString(limit.burst()),
                "retryAfterSeconds", Long.toString(retryAfter)), retryAfter);
    }
}
