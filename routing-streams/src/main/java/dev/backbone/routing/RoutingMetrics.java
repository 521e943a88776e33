package dev.backbone.routing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The meters of the routing topology, registered once. Thread-safe. */
final class RoutingMetrics {

    /** Outcomes of a DNS lookup, the values of the {@code result} tag. */
    enum LookupResult { CACHE, REGION, COUNTRY, GLOBAL, NXDOMAIN, ERROR }

    private static final Logger log = LoggerFactory.getLogger(RoutingMetrics.class);

    private final MeterRegistry registry;
    private final Map<LookupResult, Counter> lookups = new EnumMap<>(LookupResult.class);
    private final Counter routed;
    private final Map<Integer, Counter> errorsByStatus = new ConcurrentHashMap<>();
    private final Map<String, Counter> deadLettersByTopic = new ConcurrentHashMap<>();
    private final Timer resolution;
    /** Entry counts of the client DNS caches of this instance's tasks, by the processor that owns each. */
    private final Map<Object, LongSupplier> cacheSizes = new ConcurrentHashMap<>();
    /** Trace counts of the routing traces of this instance's tasks, by the processor that owns each. */
    private final Map<Object, LongSupplier> traceCounts = new ConcurrentHashMap<>();

    RoutingMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (LookupResult result : LookupResult.values()) {
            lookups.put(result, Counter.builder("backbone.routing.dns.lookups")
                    .description("DNS lookups by the level that answered, or their failure")
                    .tag("result", result.name().toLowerCase(Locale.ROOT))
                    .register(registry));
        }
        resolution = Timer.builder("backbone.routing.dns.resolution")
                .description("Time to resolve a name against the DNS records when the client's DNS cache misses")
                .publishPercentiles(0.5, 0.95, 0.99)
                .register(registry);
        Gauge.builder("backbone.routing.dns.cache.entries", this, RoutingMetrics::cacheEntries)
                .description("Entries in the client DNS caches of this instance's tasks, approximate")
                .strongReference(true)
                .register(registry);
        Gauge.builder("backbone.routing.traces.held", this, metrics -> sum(metrics.traceCounts))
                .description("Routing traces held by this instance's tasks, in written batches or pending; a request "
                        + "routed again counts once per trace")
                .strongReference(true)
                .register(registry);
        routed = Counter.builder("backbone.routing.requests.routed")
                .description("Requests routed to an app server")
                .register(registry);
        for (int status : new int[] {400, 404, 502, 503}) {
            errorCounter(status);
        }
    }

    void lookup(LookupResult result) {
        lookups.get(result).increment();
    }

    /** Runs a resolution and records its duration on the registry's clock. */
    <T> T timeResolution(Supplier<T> resolve) {
        return resolution.record(resolve);
    }

    /** Adds a task's client DNS cache to the entries gauge until {@link #untrackCacheSize(Object)}. */
    void trackCacheSize(Object owner, LongSupplier approximateEntries) {
        cacheSizes.put(owner, approximateEntries);
    }

    void untrackCacheSize(Object owner) {
        cacheSizes.remove(owner);
    }

    /** Adds a task's count of routing traces to its gauge until {@link #untrackTraceCount(Object)}. */
    void trackTraceCount(Object owner, LongSupplier traceCount) {
        traceCounts.put(owner, traceCount);
    }

    void untrackTraceCount(Object owner) {
        traceCounts.remove(owner);
    }

    private static double sum(Map<Object, LongSupplier> counts) {
        long total = 0;
        for (LongSupplier count : counts.values()) {
            total += count.getAsLong();
        }
        return total;
    }

    private double cacheEntries() {
        long total = 0;
        for (LongSupplier size : cacheSizes.values()) {
            try {
                total += size.getAsLong();
            } catch (RuntimeException e) {
                // The store of a task that is closing or migrating: skip it, as the next scrape will.
                log.debug("Cannot count the entries of a client DNS cache: {}", e.toString());
            }
        }
        return total;
    }

    void routed() {
        routed.increment();
    }

    /** Counts a request that got an error response instead of being routed. */
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
