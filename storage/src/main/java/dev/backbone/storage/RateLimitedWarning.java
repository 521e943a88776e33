package dev.backbone.storage;

import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/** Logs a repeated warning at most once per interval, with the number of warnings left out since. Thread-safe. */
public final class RateLimitedWarning {

    private final Logger log;
    private final Clock clock;
    private final long intervalMs;
    private final AtomicLong lastLoggedAtMs = new AtomicLong(Long.MIN_VALUE / 2);
    private final AtomicLong suppressed = new AtomicLong();

    public RateLimitedWarning(Logger log, Clock clock, long intervalMs) {
        this.log = log;
        this.clock = clock;
        this.intervalMs = intervalMs;
    }

    /** Logs {@code message} with SLF4J {@code {}} placeholders filled from {@code arguments}, or counts it. */
    public void warn(String message, Object... arguments) {
        long now = clock.millis();
        long last = lastLoggedAtMs.get();
        if (now - last < intervalMs || !lastLoggedAtMs.compareAndSet(last, now)) {
            suppressed.incrementAndGet();
            return;
        }
        long left = suppressed.getAndSet(0);
        if (left == 0) {
            log.warn(message, arguments);
        } else {
            Object[] withCount = java.util.Arrays.copyOf(arguments, arguments.length + 1);
            withCount[arguments.length] = left;
            log.warn(message + " ({} similar warnings not logged since the last one)", withCount);
        }
    }
}
