package dev.backbone.invalidator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.events.PurgeRequest;
import java.util.List;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class PurgeCoalescerTest {

    private static final TopicPartition P0 = new TopicPartition("backbone.db-changes", 0);
    private static final TopicPartition P1 = new TopicPartition("backbone.db-changes", 1);

    @Test
    void firstPurgeOfAKeyIsDueAtOnce() {
        var coalescer = new PurgeCoalescer(100, false);
        assertThat(coalescer.msUntilDue(5_000)).isEqualTo(-1);
        assertThat(coalescer.isDue(5_000)).isFalse();

        coalescer.add("product:1", 1_000, 5_000);

        assertThat(coalescer.isDue(5_000)).isTrue();
        List<PurgeRequest> purges = coalescer.drain(5_000);
        assertThat(purges).extracting(PurgeRequest::surrogateKey).containsExactly("product:1");
        assertThat(purges.get(0).commitAtMs()).isEqualTo(1_000);
        assertThat(purges.get(0).requestedAtMs()).isEqualTo(5_000);
        assertThat(purges.get(0).soft()).isFalse();
        assertThat(coalescer.isEmpty()).isTrue();
    }

    @Test
    void burstWithinTheWindowBecomesOneMorePurgeAtItsEnd() {
        var coalescer = new PurgeCoalescer(100, false);
        coalescer.add("product:1", 1_000, 5_000);
        coalescer.drain(5_000);

        coalescer.add("product:1", 1_020, 5_020);
        coalescer.add("product:1", 1_010, 5_030);
        coalescer.add("product:1", 1_040, 5_040);

        assertThat(coalescer.msUntilDue(5_040)).isEqualTo(60);
        assertThat(coalescer.isDue(5_099)).isFalse();
        assertThat(coalescer.drain(5_099)).isEmpty();
        List<PurgeRequest> purges = coalescer.drain(5_100);
        assertThat(purges).extracting(PurgeRequest::surrogateKey).containsExactly("product:1");
        assertThat(purges.get(0).commitAtMs()).isEqualTo(1_010);
        assertThat(coalescer.added()).isEqualTo(4);
    }

    @Test
    void keysAreThrottledEachOnTheirOwn() {
        var coalescer = new PurgeCoalescer(100, false);
        coalescer.add("product:1", 1_000, 5_000);
        coalescer.drain(5_000);

        coalescer.add("product:1", 1_050, 5_050);
        coalescer.add("category:7", 1_050, 5_050);

        assertThat(coalescer.drain(5_050)).extracting(PurgeRequest::surrogateKey).containsExactly("category:7");
        assertThat(coalescer.drain(5_100)).extracting(PurgeRequest::surrogateKey).containsExactly("product:1");
    }

    @Test
    void keyPurgedLongerThanAWindowAgoIsDueAtOnce() {
        var coalescer = new PurgeCoalescer(100, false);
        coalescer.add("product:1", 1_000, 5_000);
        coalescer.drain(5_000);

        coalescer.add("product:1", 1_200, 5_250);

        assertThat(coalescer.isDue(5_250)).isTrue();
        assertThat(coalescer.drain(5_250)).extracting(PurgeRequest::commitAtMs).containsExactly(1_200L);
    }

    @Test
    void waitingPurgesHoldBackTheirOffsets() {
        var coalescer = new PurgeCoalescer(100, false);
        coalescer.add("product:1", 1_000, 5_000, P0, 10);
        coalescer.drain(5_000);
        assertThat(coalescer.lowestWaitingOffset(P0)).isEqualTo(Long.MAX_VALUE);

        coalescer.add("product:1", 1_010, 5_010, P0, 12);
        coalescer.add("product:1", 1_020, 5_020, P0, 15);
        coalescer.add("product:1", 1_030, 5_030, P1, 4);

        assertThat(coalescer.lowestWaitingOffset(P0)).isEqualTo(12);
        assertThat(coalescer.lowestWaitingOffset(P1)).isEqualTo(4);
        coalescer.drain(5_100);
        assertThat(coalescer.lowestWaitingOffset(P0)).isEqualTo(Long.MAX_VALUE);
        assertThat(coalescer.lowestWaitingOffset(P1)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void drainAllReleasesPurgesThatAreNotDue() {
        var coalescer = new PurgeCoalescer(100, true);
        coalescer.add("asset:/img/logo.png", 1_000, 5_000);
        coalescer.drain(5_000);
        coalescer.add("asset:/img/logo.png", 1_010, 5_010);

        assertThat(coalescer.drain(5_020)).isEmpty();
        assertThat(coalescer.drainAll(5_020)).extracting(PurgeRequest::soft).containsExactly(true);
        assertThat(coalescer.isEmpty()).isTrue();
    }

    @Test
    void zeroWindowIsDueAtOnce() {
        var coalescer = new PurgeCoalescer(0, true);
        coalescer.add("asset:/img/logo.png", 1_000, 5_000);
        coalescer.drain(5_000);
        coalescer.add("asset:/img/logo.png", 1_001, 5_000);

        assertThat(coalescer.isDue(5_000)).isTrue();
        assertThat(coalescer.drain(5_000)).extracting(PurgeRequest::soft).containsExactly(true);
    }
}
