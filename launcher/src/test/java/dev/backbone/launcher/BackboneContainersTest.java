package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.embedded.EmbeddedKafka;
import org.junit.jupiter.api.Test;

/** Checks the parts of {@link BackboneContainers} that need no Docker engine. */
class BackboneContainersTest {

    @Test
    void brokerConfigBecomesImageVariable() {
        assertThat(BackboneContainers.environmentVariable("group.consumer.session.timeout.ms"))
                .isEqualTo("KAFKA_GROUP_CONSUMER_SESSION_TIMEOUT_MS");
        assertThat(BackboneContainers.environmentVariable("group.initial.rebalance.delay.ms"))
                .isEqualTo("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS");
    }

    @Test
    void everyFastGroupSettingHasVariable() {
        assertThat(EmbeddedKafka.FAST_GROUP_SETTINGS.keySet())
                .allSatisfy(key -> assertThat(BackboneContainers.environmentVariable(key)).startsWith("KAFKA_"));
    }

    @Test
    void keyWithUnderscoreOrDashIsRejected() {
        assertThatThrownBy(() -> BackboneContainers.environmentVariable("listener.name.internal_plain.sasl"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("internal_plain");
        assertThatThrownBy(() -> BackboneContainers.environmentVariable("log.cleaner-threads"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cleaner-threads");
    }

    @Test
    void skipMessageNamesBothTests() {
        String message = BackboneContainers.skipMessage(ContainersRequestPathIT.class, RequestPathIT.class);

        assertThat(message).startsWith("No Docker engine is reachable, so ContainersRequestPathIT is skipped; RequestPathIT ")
                .contains("-Dbackbone.docker.required=true");
    }
}
