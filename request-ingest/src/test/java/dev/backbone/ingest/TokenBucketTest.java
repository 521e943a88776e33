package dev.backbone.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TokenBucketTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long START = 1_000 * SECOND;

    @Test
    void newBucketAllowsBurstThenRejects() {
        var bucket = new TokenBucket(2, 3, START);

        assertThat(bucket.tryTake(START)).isZero();
        assertThat(bucket.tryTake(START)).isZero();
        assertThat(bucket.tryTake(START)).isZero();
        assertThat(bucket.tryTake(START)).isPositive();
    }

    @Test
    void waitIsTimeUntilNextToken() {
        var bucket = new TokenBucket(2, 1, START);
        bucket.tryTake(START);

        long wait = bucket.tryTake(START);

        assertThat(wait).isEqualTo(SECOND / 2);
    }

    @Test
    void refillsAtTheRate() {
        var bucket = new TokenBucket(2, 1, START);
        bucket.tryTake(START);

        assertThat(bucket.tryTake(START + SECOND / 4)).isEqualTo(SECOND / 4);
        assertThat(bucket.tryTake(START + SECOND / 2)).isZero();
        assertThat(bucket.tryTake(START + SECOND / 2)).isPositive();
    }

    @Test
    void refillStopsAtBurst() {
        var bucket = new TokenBucket(10, 2, START);
        bucket.tryTake(START);
        bucket.tryTake(START);

        long later = START + 3_600 * SECOND;

        assertThat(bucket.tryTake(later)).isZero();
        assertThat(bucket.tryTake(later)).isZero();
        assertThat(bucket.tryTake(later)).isPositive();
    }

    @Test
    void fractionalRateWaitsSeconds() {
        var bucket = new TokenBucket(0.5, 1, START);
        bucket.tryTake(START);

        assertThat(bucket.tryTake(START)).isEqualTo(2 * SECOND);
    }

    @Test
    void rejectedRequestTakesNoToken() {
        var bucket = new TokenBucket(1, 1, START);
        bucket.tryTake(START);
        for (int i = 0; i < 5; i++) {
            bucket.tryTake(START + i);
        }

        assertThat(bucket.tryTake(START + SECOND)).isZero();
    }

    @Test
    void clockGoingBackAddsNoTokens() {
        var bucket = new TokenBucket(1, 1, START);
        bucket.tryTake(START);

        assertThat(bucket.tryTake(START - 10 * SECOND)).isPositive();
    }

    @Test
    void invalidRateRejected() {
        assertThatThrownBy(() -> new TokenBucket(0, 1, START)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TokenBucket(1, 0, START)).isInstanceOf(IllegalArgumentException.class);
    }
}
