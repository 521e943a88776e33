package dev.backbone.ingest;

/**
 * A token bucket: it holds at most {@code burst} tokens, gains {@code ratePerSecond} tokens per second, and each request
 * takes one. A new bucket is full. The caller passes the time, in nanoseconds of a monotonic clock such as
 * {@link System#nanoTime()}, so tests control it. Thread-safe.
 */
final class TokenBucket {

    private final double tokensPerNano;
    private final double capacity;
    private double tokens;
    private long refilledAtNanos;

    TokenBucket(double ratePerSecond, int burst, long nowNanos) {
        if (!(ratePerSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("a token bucket needs a rate above 0 and a burst of at least 1, got "
                    + ratePerSecond + " and " + burst);
        }
        this.tokensPerNano = ratePerSecond / 1e9;
        this.capacity = burst;
        this.tokens = burst;
        this.refilledAtNanos = nowNanos;
    }

    /**
     * Takes one token when the bucket has one.
     *
     * @return 0 when a token was taken, else the nanoseconds until the bucket will have one (at least 1)
     */
    synchronized long tryTake(long nowNanos) {
        long elapsed = nowNanos - refilledAtNanos;
        if (elapsed > 0) {
            tokens = Math.min(capacity, tokens + elapsed * tokensPerNano);
            refilledAtNanos = nowNanos;
        }
        if (tokens >= 1) {
            tokens -= 1;
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - tokens) / tokensPerNano));
    }
}
