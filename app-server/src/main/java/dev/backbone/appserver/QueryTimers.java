package dev.backbone.appserver;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/** Times database queries in {@code backbone.db.queries}, tagged with a fixed query name such as {@code product.find}. */
final class QueryTimers {

    private final MeterRegistry registry;
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

    QueryTimers(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Runs and times one query; {@code query} must come from a fixed set of names, never from request input. */
    <T> T time(String query, Supplier<T> call) {
        Timer timer = timers.computeIfAbsent(query, name -> Timer.builder("backbone.db.queries").tag("query", name)
                .description("database queries of the app server").register(registry));
        return timer.record(call);
    }

    /** Returns how many queries ran, all names together. */
    long count() {
        return timers.values().stream().mapToLong(Timer::count).sum();
    }
}
