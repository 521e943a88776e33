package dev.backbone.routing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The meters of the routing topology, registered once. Thread-safe. */
final class RoutingMetrics {

    /** Outcomes of a DNS lookup, the values of the {@code result} tag. */
    enum LookupResult { CACHE, REGION, COUNTRY, GLOBAL, NXDOMAIN, ERROR }

    private final MeterRegistry registry;
    private final Map<LookupResult, Counter> lookups = new EnumMap<>(LookupResult.class);
    private final Counter routed;
    private final Counter tableRebuilds;
    private final Map<Integer, Counter> errorsByStatus = new ConcurrentHashMap<>();
    private final Map<String, Counter> deadLettersByTopic = new ConcurrentHashMap<>();

    RoutingMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (LookupResult result : LookupResult.values()) {
            lookups.put(result, Counter.builder("backbone.routing.dns.lookups")
                    .description("DNS lookups by the level that answered, or their failure")
                    .tag("result", result.name().toLowerCase(java.util.Locale.ROOT))
                    .register(registry));
        }
        routed = Counter.builder("backbone.routing.requests.routed")
                .description("Requests routed to an app server")
                .register(registry);
        tableRebuilds = Counter.builder("backbone.routing.maglev.rebuilds")
                .description("Maglev lookup-table builds after a pool membership change")
                .register(registry);
        for (int status : new int[] {400, 404, 502, 503}) {
            errorCounter(status);
        }
    }

    void lookup(LookupResult result) {
        lookups.get(result).increment();
    }

    void routed() {
        routed.increment();
    }

    void tableRebuilt() {
        tableRebuilds.increment();
    }

    /** Counts a request answered with an error instead of being routed. */
    void error(int status) {
        errorCounter(status).increment();
    }

    private Counter errorCounter(int status) {
        return errorsByStatus.computeIfAbsent(status, s -> Counter.builder("backbone.routing.errors")
                .description("Requests answered with an error instead of being routed, by HTTP status")
                .tag("status", String.valueOf(s))
                .register(registry));
    }

    void deadLetter(String topic) {
        deadLettersByTopic.computeIfAbsent(topic, t -> Counter.builder("backbone.routing.dead.letters")
                .description("Records sent to the dead-letter topic, by source topic")
                .tag("topic", t)
                .register(registry)).increment();
    }
}
