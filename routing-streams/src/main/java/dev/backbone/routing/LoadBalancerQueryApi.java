package dev.backbone.routing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Heartbeat;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The load-balancer queries of the REST API: a pool's members, the server a key maps to, and per-server request
 * counts. Every instance derives membership from the whole heartbeat topic, so any instance serves the first two
 * without forwarding. Each instance counts only the requests it routes, so the load query fans out to every instance
 * of the consumer group and sums their counts. Thread-safe.
 */
final class LoadBalancerQueryApi {

    static final long ONE_MINUTE_MS = 60_000;
    static final long FIVE_MINUTES_MS = 300_000;
    /** Servers of the preference order shown by the route query. */
    static final int PREFERENCE_SHOWN = 3;

    private final LoadBalancing loadBalancing;
    private final Clock clock;
    private final String self;
    private final InstancePeers peers;

    /** Creates the queries of a single instance: the load query returns this instance's counts only. */
    LoadBalancerQueryApi(LoadBalancing loadBalancing, Clock clock, String self) {
        this(loadBalancing, clock, self, null);
    }

    /** @param peers the other instances that the load query fans out to, or null to count this instance only */
    LoadBalancerQueryApi(LoadBalancing loadBalancing, Clock clock, String self, InstancePeers peers) {
        this.loadBalancing = loadBalancing;
        this.clock = clock;
        this.self = self;
        this.peers = peers;
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

    /**
     * Returns the requests routed to each server of a pool over the last 1 and 5 minutes, summed over every instance
     * of the consumer group, with the instances that contributed.
     *
     * @param local "true" to return this instance's counts only, as a fanned-out query requests; null or "false" for all
     * @throws ApiException 503 when another instance cannot be queried, because the sum would be too low
     */
    ApiReply load(String pool, String local) {
        requirePool(pool);
        boolean localOnly = InstancePeers.parseLocal(local);
        long nowMs = clock.millis();
        Membership membership = loadBalancing.membership();
        membership.expire(nowMs);
        LoadWindows.PoolLoads loads = loadBalancing.existingLoads(pool);
        Map<String, Long> lastMinute = new HashMap<>(loads == null ? Map.of() : loads.counts(ONE_MINUTE_MS, nowMs));
        Map<String, Long> lastFiveMinutes = new HashMap<>(loads == null ? Map.of() : loads.counts(FIVE_MINUTES_MS, nowMs));

        var instances = new ArrayList<Map<String, Object>>();
        instances.add(instanceView(self, sum(lastMinute), sum(lastFiveMinutes)));
        if (!localOnly && peers != null) {
            for (String instance : peers.others()) {
                JsonNode answer = peers.get(instance, RoutingApiHandler.LB_LOAD_PATH + "?pool="
                        + URLEncoder.encode(pool, StandardCharsets.UTF_8) + "&" + InstancePeers.LOCAL_PARAMETER + "=true");
                if (answer == null) {
                    throw ApiException.unavailable("instance " + instance + " does not serve " + RoutingApiHandler.LB_LOAD_PATH
                            + " (404); it may run another version, retry shortly");
                }
                for (JsonNode server : answer.path("servers")) {
                    String serverId = server.get("serverId").asText();
                    lastMinute.merge(serverId, server.get("lastMinute").asLong(), Long::sum);
                    lastFiveMinutes.merge(serverId, server.get("lastFiveMinutes").asLong(), Long::sum);
                }
                instances.add(instanceView(instance, answer.path("totalLastMinute").asLong(),
                        answer.path("totalLastFiveMinutes").asLong()));
            }
        }

        var servers = new ArrayList<Map<String, Object>>();
        for (String serverId : serverIds(pool, lastFiveMinutes)) {
            Membership.Member member = membership.member(serverId);
            var view = new LinkedHashMap<String, Object>();
            view.put("serverId", serverId);
            view.put("state", member == null ? null : member.state().name());
            view.put("lastMinute", lastMinute.getOrDefault(serverId, 0L));
            view.put("lastFiveMinutes", lastFiveMinutes.getOrDefault(serverId, 0L));
            servers.add(view);
        }
        var answer = new LinkedHashMap<String, Object>();
        answer.put("pool", pool);
        answer.put("scope", localOnly || peers == null ? "local" : "all");
        answer.put("windowsMs", List.of(ONE_MINUTE_MS, FIVE_MINUTES_MS));
        answer.put("servers", servers);
        answer.put("totalLastMinute", sum(lastMinute));
        answer.put("totalLastFiveMinutes", sum(lastFiveMinutes));
        answer.put("instances", instances);
        answer.put("answeredBy", self);
        answer.put("nowMs", nowMs);
        return ApiReply.json(answer);
    }

    private static long sum(Map<String, Long> counts) {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    private static Map<String, Object> instanceView(String instance, long lastMinute, long lastFiveMinutes) {
        var view = new LinkedHashMap<String, Object>();
        view.put("instance", instance);
        view.put("totalLastMinute", lastMinute);
        view.put("totalLastFiveMinutes", lastFiveMinutes);
        return view;
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
