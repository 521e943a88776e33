package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplayScheduleTest {

    private static AccessLogParser.Entry entry(long line, String time, boolean secondsOnly) {
        return new AccessLogParser.Entry(line, Instant.parse(time), secondsOnly, "10.0.0." + line, "GET", "/products/" + line, null, null);
    }

    @Test
    void sameSecondEntriesAreSpreadAndSpeedScales() {
        var command = new ReplayCommand();
        command.speed = 2.0;
        command.host = "shop.example.com";
        var entries = List.of(
                entry(1, "2026-12-04T20:00:00Z", true),
                entry(2, "2026-12-04T20:00:00Z", true),
                entry(3, "2026-12-04T20:00:02Z", true));

        var schedule = command.schedule(entries, RegionMix.parse("eu-west:DE=1"));

        assertThat(schedule).extracting(OpenLoopRunner.Scheduled::offsetNanos)
                .containsExactly(0L, 250_000_000L, 1_000_000_000L);
        assertThat(schedule.get(0).request().clientId()).isEqualTo("ip-10.0.0.1");
        assertThat(schedule.get(0).request().region()).isEqualTo("eu-west");
        assertThat(schedule.get(0).request().country()).isEqualTo("DE");
        assertThat(schedule.get(0).request().host()).isEqualTo("shop.example.com");
    }

    @Test
    void outOfOrderTimesNeverGoBack() {
        var command = new ReplayCommand();
        command.speed = 1.0;
        command.host = "h";
        var entries = List.of(
                entry(1, "2026-12-04T20:00:05.000Z", false),
                entry(2, "2026-12-04T20:00:04.000Z", false),
                entry(3, "2026-12-04T20:00:06.500Z", false));

        var schedule = command.schedule(entries, RegionMix.parse("us-east=1"));

        assertThat(schedule).extracting(OpenLoopRunner.Scheduled::offsetNanos).containsExactly(0L, 0L, 1_500_000_000L);
    }
}
