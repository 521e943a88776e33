package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.spi.FilterReply;
import java.util.concurrent.CompletionException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

class KnownNoiseFilterTest {

    private final LoggerContext context = new LoggerContext();
    private final KnownNoiseFilter filter = new KnownNoiseFilter();

    private LoggingEvent event(String logger, Level level, String message, Throwable error) {
        return new LoggingEvent(getClass().getName(), context.getLogger(logger), level, message, error, null);
    }

    @Test
    void dropsBrokerCloseWarning() {
        var event = event("org.apache.kafka.clients.NetworkClient", Level.WARN,
                "[NodeToControllerChannelManager id=1 name=registration] Attempting to close NetworkClient that has already been closed.", null);

        assertThat(filter.decide(event)).isEqualTo(FilterReply.DENY);
    }

    @Test
    void dropsReconciliationFailureWhileClosing() {
        var error = new CompletionException(new TimeoutException("PartitionsAssignedEvent could not be completed before the consumer closed"));
        var event = event("org.apache.kafka.clients.consumer.internals.ConsumerMembershipManager", Level.ERROR,
                "[Consumer clientId=app-server-app-1-requests] Reconciliation failed.", error);

        assertThat(filter.decide(event)).isEqualTo(FilterReply.DENY);
    }

    @Test
    void keepsOtherReconciliationFailures() {
        var event = event("org.apache.kafka.clients.consumer.internals.ConsumerMembershipManager", Level.ERROR,
                "Reconciliation failed.", new IllegalStateException("broker gone"));

        assertThat(filter.decide(event)).isEqualTo(FilterReply.NEUTRAL);
    }

    @Test
    void keepsOtherNetworkWarnings() {
        var event = event("org.apache.kafka.clients.NetworkClient", Level.WARN,
                "Connection to node 1 could not be established. Node may not be available.", null);

        assertThat(filter.decide(event)).isEqualTo(FilterReply.NEUTRAL);
    }
}
