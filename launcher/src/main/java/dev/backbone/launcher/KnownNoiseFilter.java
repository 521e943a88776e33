package dev.backbone.launcher;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;

/**
 * Drops two messages that Kafka 4.3.2 logs during a clean shutdown of the one-JVM stack, so that a clean stop prints
 * no warning or error: the in-process broker's "Attempting to close NetworkClient that has already been closed", and
 * a consumer's "Reconciliation failed" when its group hands it partitions while it is closing (the
 * {@code PartitionsAssignedEvent could not be completed before the consumer closed} time-out).
 */
public final class KnownNoiseFilter extends Filter<ILoggingEvent> {

    @Override
    public FilterReply decide(ILoggingEvent event) {
        String message = event.getMessage();
        if (event.getLoggerName().endsWith("NetworkClient") && message != null
                && message.contains("Attempting to close NetworkClient that has already been closed")) {
            return FilterReply.DENY;
        }
        if (event.getLoggerName().endsWith("ConsumerMembershipManager") && message != null
                && message.contains("Reconciliation failed") && event.getThrowableProxy() != null
                && String.valueOf(event.getThrowableProxy().getMessage()).contains("before the consumer closed")) {
            return FilterReply.DENY;
        }
        return FilterReply.NEUTRAL;
    }
}
