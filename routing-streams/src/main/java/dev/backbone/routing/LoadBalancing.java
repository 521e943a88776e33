package dev.backbone.routing;

import dev.backbone.events.Heartbeat;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The load-balancer state of one routing instance, shared by the global heartbeat processor, every route processor,
 * the standby heartbeats and the REST API: membership, the Maglev tables and the per-server request counts. It lives
 * in memory: every instance rebuilds membership from the heartbeat topic and counts only the requests it routes.
 * Thread-safe.
 *
 * <p>Meters: {@code backbone.routing.lb.transitions} (tags {@code kind}, {@code to}), {@code backbone.routing.lb.spilled}
 * and {@code backbone.routing.maglev.rebuilds}. No tag names a server, so their count is bounded by the enums.
 */
final class LoadBalancing {

    private final RoutingConfig config;
    private final Membership membership;
    private final PoolBalancer balancer;
    private final LoadWindows loads = new LoadWindows();
    private final MeterRegistry registry;
    private final Map<String, Counter> transitions = new ConcurrentHashMap<>();
    private final Counter spilled;

    LoadBalancing(RoutingConfig config, MeterRegistry registry) {
        this.config = config;
        this.registry = registry;
        this.membership = new Membership(config.heartbeatTimeoutMs(), config.heartbeatRiseCount(),
                config.heartbeatMaxAgeMs(), (member, from) -> transitionCounter(member, member.state()).increment());
        Counter rebuilds = Counter.builder("backbone.routing.maglev.rebuilds")
                .description("Maglev lookup-table builds after a pool membership change")
                .register(registry);
        this.balancer = new PoolBalancer(config.maglevTableSize(), members -> rebuilds.increment());
        this.spilled = Counter.builder("backbone.routing.lb.spilled")
                .description("Requests that bounded loads moved off their first-choice app server")
                .register(registry);
        for (var kind : Heartbeat.Kind.values()) {
            for (MemberState state : MemberState.values()) {
                transitionCounter(kind, state);
            }
        }
    }

    RoutingConfig config() {
        return config;
    }

    Membership membership() {
        return membership;
    }

    PoolBalancer balancer() {
        return balancer;
    }

    /** Returns the request counts of a pool, created with the pool's bounded-load window. */
    LoadWindows.PoolLoads loads(String pool) {
        return loads.pool(pool, config.poolSettings(pool).loadWindowMs());
    }

    /** Returns the request counts of a pool, or null when this instance routed nothing to it. */
    LoadWindows.PoolLoads existingLoads(String pool) {
        return loads.existing(pool);
    }

    void spilled() {
        spilled.increment();
    }

    /** Returns the count of changes to a state, for tests and the REST API. */
    double transitions(Heartbeat.Kind kind, MemberState to) {
        return transitionCounter(kind, to).count();
    }

    private Counter transitionCounter(Membership.Member member, MemberState to) {
        return transitionCounter(member.kind(), to);
    }

    private Counter transitionCounter(Heartbeat.Kind kind, MemberState to) {
        return transitions.computeIfAbsent(kind + "/" + to, key -> Counter.builder("backbone.routing.lb.transitions")
                .description("Membership state changes of load balancers and app servers, by kind and new state")
                .tag("kind", kind.name().toLowerCase(Locale.ROOT))
                .tag("to", to.name().toLowerCase(Locale.ROOT))
                .register(registry));
    }
}
