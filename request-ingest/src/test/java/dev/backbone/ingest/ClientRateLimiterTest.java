package dev.backbone.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ClientRateLimiterTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final AtomicLong now = new AtomicLong(500 * SECOND);

    private ClientRateLimiter limiter(double perSecond, int burst, int maxClients) {
        return new ClientRateLimiter(new IngestConfig.RateLimit(perSecond, burst, maxClients), now::get);
    }

    @Test
    void clientsHaveBucketsOfTheirOwn() {
        var limiter = limiter(1, 2, 100);

        assertThat(limiter.tryAcquire("alice")).isZero();
        assertThat(limiter.tryAcquire("alice")).isZero();
        assertThat(limiter.tryAcquire("alice")).isPositive();
        assertThat(limiter.tryAcquire("bob")).isZero();
        assertThat(limiter.tryAcquire("bob")).isZero();
    }

    @Test
    void clientMaySendAgainAfterTheWait() {
        var limiter = limiter(1, 1, 100);
        limiter.tryAcquire("alice");
        long wait = limiter.tryAcquire("alice");

        now.addAndGet(wait);

        assertThat(limiter.tryAcquire("alice")).isZero();
    }

    @Test
    void idleBucketsExpireAfterRefillTime() {
        var limiter = limiter(2, 4, 100);
        limiter.tryAcquire("alice");
        limiter.tryAcquire("bob");
        assertThat(limiter.trackedClients()).isEqualTo(2);

        now.addAndGet(2 * SECOND + ClientRateLimiter.ACCESS_TIME_TOLERANCE.toNanos() + 1);

        assertThat(limiter.trackedClients()).isZero();
    }

    @Test
    void usedBucketIsKept() {
        var limiter = limiter(2, 4, 100);
        limiter.tryAcquire("alice");
        limiter.tryAcquire("bob");

        now.addAndGet(SECOND + SECOND / 2);
        limiter.tryAcquire("alice");
        now.addAndGet(2 * SECOND + SECOND / 2);

        assertThat(limiter.trackedClients()).isEqualTo(1);
    }

    @Test
    void expiredBucketStartsFull() {
        var limiter = limiter(1, 2, 100);
        limiter.tryAcquire("alice");
        limiter.tryAcquire("alice");
        assertThat(limiter.tryAcquire("alice")).isPositive();

        now.addAndGet(10 * SECOND);

        assertThat(limiter.trackedClients()).isZero();
        assertThat(limiter.tryAcquire("alice")).isZero();
        assertThat(limiter.tryAcquire("alice")).isZero();
        assertThat(limiter.tryAcquire("alice")).isPositive();
    }

    @Test
    void bucketCountStaysWithinMaxClients() {
        var limiter = limiter(1, 1, 50);

        for (int i = 0; i < 1_000; i++) {
            limiter.tryAcquire("client-" + i);
        }

        assertThat(limiter.trackedClients()).isLessThanOrEqualTo(50);
    }

    @Test
    void refillTimeIsBurstOverRate() {
        assertThat(ClientRateLimiter.refillTime(new IngestConfig.RateLimit(2, 4, 1))).isEqualTo(Duration.ofSeconds(2));
        assertThat(ClientRateLimiter.refillTime(new IngestConfig.RateLimit(1_000_000, 1, 1))).isEqualTo(Duration.ofMillis(1));
    }

    @Test
    void retryAfterRoundsUpToWholeSeconds() {
        assertThat(ClientRateLimiter.retryAfterSeconds(1)).isEqualTo(1);
        assertThat(ClientRateLimiter.retryAfterSeconds(SECOND)).isEqualTo(1);
        assertThat(ClientRateLimiter.retryAfterSeconds(SECOND + 1)).isEqualTo(2);
        assertThat(ClientRateLimiter.retryAfterSeconds(10 * SECOND - 5)).isEqualTo(10);
    }
}
