package dev.backbone.routing;

import dev.backbone.events.Heartbeat;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The load-balancer queries of the REST API: a pool's members, the server a key maps to, and per-server request
 * counts. Every instance derives membership from the whole heartbeat topic, so any instance serves the first two
 * without forwarding. Request counts are those of the answering instance only, because each instance counts the
 * requests it routes. Thread-safe.
 */
final class LoadBalancerQueryApi {

    static final long ONE_MINUTE_MS = 60_000;
    static final long FIVE_MINUTES_MS = 300_000;
    /** Servers of the preference order shown by the route query. */
    static final int PREFERENCE_SHOWN = 3;

    private final LoadBalancing loadBalancing;
    private final Clock clock;
    private final String self;

    LoadBalancerQueryApi(LoadBalancing loadBalancing, Clock clock, String self) {
        this.loadBalancing = loadBalancing;
        this.clock = clock;
        this.self = self;
    }

    /** Returns every member of a pool, load balancers and app servers, with state and last heartbeat. */
    ApiReply pool(String pool) {
        requirePool(pool);
        long nowMs = clock.millis();
        Membership membership = loadBalancing.membership();
        membership.expire(nowMs);
        List<Membership.Member> members = membership.pool(pool);
        if (members.isEmpty()) {
            throw ApiException.notFound("no heartbeat names pool '" + pool + "'", Map.of("pool", pool));
        }
        var views = new ArrayList<Map<String, Object>>();
        for (Membership.Member member : members) {
            views.add(memberView(member, nowMs));
        }
        var answer = new LinkedHashMap<String, Object>();
        answer.put("pool", pool);
        answer.put("settings", settingsView(loadBalancing.config().poolSettings(pool)));
        answer.put("upAppServers", membership.upAppServers(pool).servers().size());
        answer.put("members", views);
        answer.put("answeredBy", self);
        answer.put("nowMs", nowMs);
        return ApiReply.json(answer);
    }

    /**
     * Returns the server a routing key maps to now and the first servers of its preference order. With bounded loads
     * the response reads this instance's loads without counting a request.
     */
    ApiReply route(String pool, String key) {
        requirePool(pool);
        if (key == null || key.isEmpty()) {
            throw ApiException.invalidField(new InvalidFieldException("key", key, "is missing",
                    "the routing key: a client id, a path or a header value, as the pool's hash.key says"));
        }
        long nowMs = clock.millis();
        Membership membership = loadBalancing.membership();
        membership.expire(nowMs);
        var up = membership.upAppServers(pool).servers();
        Maglev table = loadBalancing.balancer().table(pool, up);
        if (table == null) {
            throw ApiException.notFound("no UP app server in pool '" + pool + "'", Map.of("pool", pool));
        }
        PoolSettings settings = loadBalancing.config().poolSettings(pool);
        String firstChoice = table.lookup(key);
        String serverId = firstChoice;
        if (settings.boundedLoads()) {
            LoadWindows.PoolLoads loads = loadBalancing.loads(pool);
            long total = loads.boundedTotal(nowMs);
            serverId = BoundedLoads.choose(table, key, id -> loads.boundedCount(id, nowMs), total,
                    settings.boundedLoadFactor()).serverId();
        }

        var answer = new LinkedHashMap<String, Object>();
        answer.put("pool", pool);
        answer.put("key", key);
        answer.put("serverId", serverId);
        answer.put("firstChoice", firstChoice);
        answer.put("spilled", !serverId.equals(firstChoice));
        answer.put("preference", table.preference(key, PREFERENCE_SHOWN));
        answer.put("slot", table.slotOf(key));
        answer.put("tableSize", table.tableSize());
        answer.put("boundedLoadFactor", settings.boundedLoadFactor());
        answer.put("answeredBy", self);
        answer.put("nowMs", nowMs);
        return ApiReply.json(answer);
    }

    /** Returns the requests this instance routed to each server of a pool over the last 1 and 5 minutes. */
    ApiReply load(String pool) {
        requirePool(pool);
        long nowMs = clock.millis();
        Membership membership = loadBalancing.membership();
        membership.expire(nowMs);
        LoadWindows.PoolLoads loads = loadBalancing.existingLoads(pool);
        Map<String, Long> lastMinute = loads == null ? Map.of() : loads.counts(ONE_MINUTE_MS, nowMs);
        Map<String, Long> lastFiveMinutes = loads == null ? Map.of() : loads.counts(FIVE_MINUTES_MS, nowMs);

        var servers = new ArrayList<Map<String, Object>>();
        long totalMinute = 0;
        long totalFive = 0;
        for (String serverId : serverIds(pool, lastFiveMinutes)) {
            Membership.Member member = membership.member(serverId);
            long minute = lastMinute.getOrDefault(serverId, 0L);
            long five = lastFiveMinutes.getOrDefault(serverId, 0L);
            var view = new LinkedHashMap<String, Object>();
            view.put("serverId", serverId);
            view.put("state", member == null ? null : member.state().name());
            view.put("lastMinute", minute);
            view.put("lastFiveMinutes", five);
            servers.add(view);
            totalMinute += minute;
            totalFive += five;
        }
        var answer = new LinkedHashMap<String, Object>();
        answer.put("pool", pool);
        answer.put("scope", "requests routed by " + self);
        answer.put("windowsMs", List.of(ONE_MINUTE_MS, FIVE_MINUTES_MS));
        answer.put("servers", servers);
        answer.put("totalLastMinute", totalMinute);
        answer.put("totalLastFiveMinutes", totalFive);
        answer.put("answeredBy", self);
        answer.put("nowMs", nowMs);
        return ApiReply.json(answer);
    }

    /** Returns the app servers of a pool that are members now or got requests in the window, sorted. */
    private List<String> serverIds(String pool, Map<String, Long> counted) {
        var ids = new TreeSet<>(counted.keySet());
        for (Membership.Member member : loadBalancing.membership().pool(pool)) {
            if (member.kind() == Heartbeat.Kind.APP_SERVER) {
                ids.add(member.serverId());
            }
        }
        return new ArrayList<>(ids);
    }

    private static void requirePool(String pool) {
        if (pool == null || pool.isBlank()) {
            throw ApiException.invalidField(new InvalidFieldException("pool", pool, "is missing",
                    "the name of an app-server pool, such as shop"));
        }
    }

    private static Map<String, Object> memberView(Membership.Member member, long nowMs) {
        Heartbeat heartbeat = member.lastHeartbeat();
        var view = new LinkedHashMap<String, Object>();
        view.put("serverId", member.serverId());
        view.put("kind", heartbeat.kind().name());
        view.put("state", member.state().name());
        view.put("stateSinceMs", member.stateSinceMs());
        view.put("announced", heartbeat.state().name());
        view.put("weight", heartbeat.weight());
        view.put("partitions", heartbeat.partitions());
        view.put("heartbeatsInARow", member.inARow());
        view.put("lastHeartbeatSentAtMs", heartbeat.sentAtMs());
        view.put("lastHeartbeatSequence", heartbeat.sequence());
        view.put("lastReceivedAtMs", member.lastReceivedAtMs() < 0 ? null : member.lastReceivedAtMs());
        view.put("lastReceivedAgeMs", member.lastReceivedAtMs() < 0 ? null : nowMs - member.lastReceivedAtMs());
        return view;
    }

    private static Map<String, Object> settingsView(PoolSettings settings) {
        var view = new LinkedHashMap<String, Object>();
        view.put("hashKey", settings.hashKey().configValue());
        view.put("boundedLoadFactor", settings.boundedLoadFactor());
        view.put("loadWindowMs", settings.loadWindowMs());
        return view;
    }
}
