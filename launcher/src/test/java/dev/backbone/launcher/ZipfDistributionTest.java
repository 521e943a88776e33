package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ZipfDistributionTest {

    @Test
    void frequenciesFollowPowerLaw() {
        var zipf = new ZipfDistribution(1000, 1.0);
        var random = new SplittableRandom(7);
        int[] counts = new int[1001];
        int samples = 200_000;
        for (int i = 0; i < samples; i++) {
            counts[zipf.sample(random)]++;
        }
        double harmonic = 0;
        for (int k = 1; k <= 1000; k++) {
            harmonic += 1.0 / k;
        }
        // Rank 1 expects samples / H(1000), about 26,660; rank 2 half of it.
        assertThat(counts[1]).isBetween((int) (0.95 * samples / harmonic), (int) (1.05 * samples / harmonic));
        assertThat((double) counts[1] / counts[2]).isBetween(1.85, 2.15);
        assertThat(counts[0]).isZero();
    }

    @Test
    void exponentZeroIsUniform() {
        var zipf = new ZipfDistribution(4, 0.0);
        var random = new SplittableRandom(1);
        int[] counts = new int[5];
        for (int i = 0; i < 40_000; i++) {
            counts[zipf.sample(random)]++;
        }
        for (int k = 1; k <= 4; k++) {
            assertThat(counts[k]).isBetween(9_500, 10_500);
        }
    }

    @Test
    void invalidArgumentsAreRejected() {
        assertThatThrownBy(() -> new ZipfDistribution(0, 1)).hasMessageContaining("n must be >= 1");
        assertThatThrownBy(() -> new ZipfDistribution(5, -1)).hasMessageContaining("exponent");
    }
}
