package dev.backbone.invalidator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.events.PurgeRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

class PurgeCoalescerTest {

    @Test
    void burstBecomesOnePurgePerKey() {
        var coalescer = new PurgeCoalescer(100, false);

        coalescer.add("product:1", 1_000, 5_000);
        coalescer.add("product:2", 1_010, 5_010);
        coalescer.add("product:1", 1_020, 5_020);
        coalescer.add("product:1", 990, 5_030);

        List<PurgeRequest> purges = coalescer.drain(5_100);
        assertThat(purges).extracting(PurgeRequest::surrogateKey).containsExactly("product:1", "product:2");
        assertThat(purges.get(0).commitAtMs()).isEqualTo(990);
        assertThat(purges.get(1).commitAtMs()).isEqualTo(1_010);
        assertThat(purges).extracting(PurgeRequest::requestedAtMs).containsOnly(5_100L);
        assertThat(purges).extracting(PurgeRequest::soft).containsOnly(false);
        assertThat(coalescer.added()).isEqualTo(4);
        assertThat(coalescer.isEmpty()).isTrue();
    }

    @Test
    void windowOpensWithFirstKey() {
        var coalescer = new PurgeCoalescer(100, false);
        assertThat(coalescer.msUntilDue(5_000)).isEqualTo(-1);
        assertThat(coalescer.isDue(5_000)).isFalse();

        coalescer.add("category:7", 1_000, 5_000);
        coalescer.add("category:8", 1_000, 5_060);

        assertThat(coalescer.msUntilDue(5_060)).isEqualTo(40);
        assertThat(coalescer.isDue(5_099)).isFalse();
        assertThat(coalescer.isDue(5_100)).isTrue();
        assertThat(coalescer.msUntilDue(5_150)).isZero();
    }

    @Test
    void nextWindowOpensAfterDrain() {
        var coalescer = new PurgeCoalescer(100, false);
        coalescer.add("product:1", 1_000, 5_000);
        coalescer.drain(5_100);

        coalescer.add("product:1", 1_200, 5_250);

        assertThat(coalescer.isDue(5_300)).isFalse();
        assertThat(coalescer.isDue(5_350)).isTrue();
        assertThat(coalescer.drain(5_350)).extracting(PurgeRequest::commitAtMs).containsExactly(1_200L);
    }

    @Test
    void zeroWindowIsDueAtOnce() {
        var coalescer = new PurgeCoalescer(0, true);
        coalescer.add("asset:/img/logo.png", 1_000, 5_000);

        assertThat(coalescer.isDue(5_000)).isTrue();
        assertThat(coalescer.drain(5_000)).extracting(PurgeRequest::soft).containsExactly(true);
    }
}
