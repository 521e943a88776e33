package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LoadWindowsTest {

    private static final long T0 = 1_900_000_000_000L;

    @Test
    void boundedCountSlidesWithWindow() {
        var loads = new LoadWindows().pool("shop", 10_000);
        loads.record("app-1", T0);
        loads.record("app-1", T0 + 5_000);
        loads.record("app-2", T0 + 9_999);

        assertThat(loads.boundedCount("app-1", T0 + 9_999)).isEqualTo(2);
        assertThat(loads.boundedTotal(T0 + 9_999)).isEqualTo(3);
        assertThat(loads.boundedCount("app-1", T0 + 10_000)).as("the first second left the window").isEqualTo(1);
        assertThat(loads.boundedTotal(T0 + 15_000)).isEqualTo(1);
        assertThat(loads.boundedTotal(T0 + 20_000)).isZero();
    }

    @Test
    void countsOverOneAndFiveMinutes() {
        var loads = new LoadWindows().pool("shop", 60_000);
        loads.record("app-1", T0);
        loads.record("app-1", T0 + 200_000);
        loads.record("app-2", T0 + 250_000);

        long now = T0 + 280_000;
        assertThat(loads.counts(60_000, now)).containsEntry("app-1", 0L).containsEntry("app-2", 1L);
        assertThat(loads.counts(300_000, now)).containsEntry("app-1", 2L).containsEntry("app-2", 1L);
        assertThat(loads.counts(300_000, T0 + 300_000)).as("the first request is 5 minutes old").containsEntry("app-1", 1L);
    }

    @Test
    void longSilenceClearsEverything() {
        var loads = new LoadWindows().pool("shop", 300_000);
        loads.record("app-1", T0);

        assertThat(loads.boundedTotal(T0 + 3_600_000)).isZero();
        assertThat(loads.counts(300_000, T0 + 3_600_000)).containsEntry("app-1", 0L);
    }

    @Test
    void clockSteppingBackCountsIntoCurrentSecond() {
        var loads = new LoadWindows().pool("shop", 60_000);
        loads.record("app-1", T0 + 10_000);
        loads.record("app-1", T0);

        assertThat(loads.boundedCount("app-1", T0 + 10_000)).isEqualTo(2);
    }
}
