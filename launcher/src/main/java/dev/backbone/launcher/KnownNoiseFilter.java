package dev.backbone.launcher;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;

/**
 * Drops one warning that the in-process Kafka broker (4.3.2) logs at every clean shutdown, "Attempting to close
 * NetworkClient that has already been closed", so that a clean stop of the launcher prints no warning.
 */
public final class KnownNoiseFilter extends Filter<ILoggingEvent> {

    @Override
    public FilterReply decide(ILoggingEvent event) {
        String message = event.getMessage();
        if (event.getLoggerName().endsWith("NetworkClient") && message != null
                && message.contains("Attempting to close NetworkClient that has already been closed")) {
            return FilterReply.DENY;
        }
        return FilterReply.NEUTRAL;
    }
}
