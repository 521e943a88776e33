package dev.backbone.launcher;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Samples ranks 1..n with probability proportional to {@code 1 / rank^exponent}, by binary search over a precomputed
 * cumulative distribution (n doubles of memory, O(log n) a sample). Immutable and thread-safe; the random generator
 * passed to {@link #sample} is the caller's.
 */
public final class ZipfDistribution {

    private final double[] cumulative;

    public ZipfDistribution(int n, double exponent) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be >= 1, got " + n);
        }
        if (!(exponent >= 0)) {
            throw new IllegalArgumentException("exponent must be >= 0, got " + exponent);
        }
        cumulative = new double[n];
        double sum = 0;
        for (int rank = 1; rank <= n; rank++) {
            sum += 1.0 / Math.pow(rank, exponent);
            cumulative[rank - 1] = sum;
        }
        for (int i = 0; i < n; i++) {
            cumulative[i] /= sum;
        }
    }

    /** Returns a rank from 1 to n; rank 1 is the most frequent. */
    public int sample(RandomGenerator random) {
        double u = random.nextDouble();
        int index = Arrays.binarySearch(cumulative, u);
        if (index < 0) {
            index = -index - 1;
        }
        return Math.min(index, cumulative.length - 1) + 1;
    }
}
