package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.DnsRecord;
import dev.backbone.events.Heartbeat;
import dev.backbone.events.Json;
import dev.backbone.events.RoutedRequest;
import dev.backbone.events.Settings;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The load-balancer rules of the routing topology, driven by heartbeats and a mocked wall clock. */
class LoadBalancerTopologyTest {

    private static final Instant START = Instant.parse("2030-01-01T00:00:00Z");
    private static final String HOST = "shop.example.com";
    private static final String POOL = "shop";

    @TempDir
    Path stateDir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private TopologyTestDriver driver;
    private LoadBalancing loadBalancing;
    private TestInputTopic<String, ClientRequest> requests;
    private TestInputTopic<String, Heartbeat> heartbeats;
    private TestOutputTopic<String, RoutedRequest> routed;
    private TestOutputTopic<String, ClientResponse> responses;
    private Instant now = START;
    private int requestCount;
    private long sequence;

    @AfterEach
    void closeDriver() {
        if (driver != null) {
            driver.close();
        }
    }

    private void start(Map<String, String> overrides) {
        var values = new HashMap<String, String>();
        values.put("bootstrap.servers", "127.0.0.1:9");
        values.put("state.dir", stateDir.toString());
        values.putAll(overrides);
        var config = RoutingConfig.from(Settings.of(values));
        loadBalancing = new LoadBalancing(config, registry);
        var topology = RoutingTopology.build(config, registry, DeadLetterSink.logOnly(), loadBalancing, new LocalTraces());
        driver = new TopologyTestDriver(topology, config.streamsProperties(), START);

        requests = driver.createInputTopic(Topics.CLIENT_REQUESTS.name(), new StringSerializer(),
                Topics.CLIENT_REQUESTS.valueSerde().serializer());
        heartbeats = driver.createInputTopic(Topics.LB_HEARTBEATS.name(), new StringSerializer(),
                Topics.LB_HEARTBEATS.valueSerde().serializer());
        routed = driver.createOutputTopic(Topics.ROUTED_REQUESTS.name(), new StringDeserializer(),
                Topics.ROUTED_REQUESTS.valueSerde().deserializer());
        responses = driver.createOutputTopic(Topics.RESPONSES.name(), new StringDeserializer(),
                Topics.RESPONSES.valueSerde().deserializer());
        var record = new DnsRecord(DnsRecord.SCHEMA_VERSION, HOST, DnsRecord.GLOBAL, DnsRecord.Type.A, List.of("lb-1"),
                null, 0, 1);
        driver.createInputTopic(Topics.DNS_RECORDS.name(), new StringSerializer(), Topics.DNS_RECORDS.valueSerde().serializer())
                .pipeInput(record.key(), record);
    }

    private void start() {
        start(Map.of());
    }

    // ---- fixtures ----

    private void beat(String serverId, Heartbeat.Kind kind, Heartbeat.State state, int weight, long sentAtMs) {
        heartbeats.pipeInput(serverId, new Heartbeat(Heartbeat.SCHEMA_VERSION, serverId, kind, POOL, state,
                List.of(partitionOf(serverId)), weight, ++sequence, sentAtMs));
    }

    private static int partitionOf(String serverId) {
        return Math.floorMod(serverId.hashCode(), 12);
    }

    private void appServer(String serverId) {
        beat(serverId, Heartbeat.Kind.APP_SERVER, Heartbeat.State.UP, 1, now.toEpochMilli());
    }

    private void loadBalancer() {
        beat("lb-1", Heartbeat.Kind.LOAD_BALANCER, Heartbeat.State.UP, 1, now.toEpochMilli());
    }

    /** lb-1 and the given app servers heartbeat now. */
    private void alive(String... appServers) {
        loadBalancer();
        for (String serverId : appServers) {
            appServer(serverId);
        }
    }

    private ClientRequest request(String clientId, Map<String, String> headers) {
        requestCount++;
        return new ClientRequest(ClientRequest.SCHEMA_VERSION, "req-" + requestCount, clientId, "eu-west", "DE", HOST,
                "GET", "/products/" + (requestCount % 7), "", headers, null, "ingest-1", 0, now.toEpochMilli(),
                now.toEpochMilli() + 10_000);
    }

    private RoutedRequest routeOne(String clientId) {
        return routeOne(request(clientId, Map.of()));
    }

    private RoutedRequest routeOne(ClientRequest request) {
        requests.pipeInput(request.clientId(), request);
        assertThat(responses.isEmpty()).as("no error answer").isTrue();
        return routed.readValue();
    }

    /** Returns the servers that 40 clients are routed to. */
    private Set<String> serversOfForty() {
        Set<String> servers = new HashSet<>();
        for (int client = 0; client < 40; client++) {
            servers.add(routeOne("client-" + client).serverId());
        }
        return servers;
    }

    private void advance(Duration duration) {
        now = now.plus(duration);
        driver.advanceWallClockTime(duration);
    }

    private MemberState stateOf(String serverId) {
        return loadBalancing.membership().member(serverId).state();
    }

    private double transitions(String kind, String to) {
        return registry.get("backbone.routing.lb.transitions").tag("kind", kind).tag("to", to).counter().count();
    }

    private LoadBalancerQueryApi queries() {
        return new LoadBalancerQueryApi(loadBalancing, Clock.fixed(now, ZoneOffset.UTC), "127.0.0.1:0");
    }

    private static JsonNode json(ApiReply reply) throws Exception {
        assertThat(reply.status()).isEqualTo(200);
        return Json.mapper().readTree(reply.body());
    }

    // ---- liveness ----

    @Test
    void punctuatorMarksDownWithoutInput() {
        start();
        alive("app-1", "app-2");

        advance(Duration.ofMillis(2_999));
        assertThat(stateOf("app-1")).isEqualTo(MemberState.UP);

        advance(Duration.ofMillis(1));
        assertThat(stateOf("app-1")).isEqualTo(MemberState.DOWN);
        assertThat(stateOf("app-2")).isEqualTo(MemberState.DOWN);
        assertThat(stateOf("lb-1")).isEqualTo(MemberState.DOWN);
        assertThat(transitions("app_server", "down")).isEqualTo(2);
        assertThat(transitions("load_balancer", "down")).isEqualTo(1);
    }

    @Test
    void stateChangeCountedOnce() {
        start(Map.of("heartbeat.check.interval.ms", "100"));
        alive("app-1");

        advance(Duration.ofSeconds(3));
        advance(Duration.ofSeconds(5));
        loadBalancer();
        sendRequest();

        assertThat(transitions("app_server", "up")).as("the first heartbeat").isEqualTo(1);
        assertThat(transitions("app_server", "down")).isEqualTo(1);
    }

    private void sendRequest() {
        requests.pipeInput("client-1", request("client-1", Map.of()));
    }

    @Test
    void downServerGetsNoNewRequests() {
        start();
        alive("app-1", "app-2");
        assertThat(serversOfForty()).containsExactlyInAnyOrder("app-1", "app-2");

        advance(Duration.ofMillis(2_000));
        alive("app-2");
        advance(Duration.ofMillis(1_000));

        assertThat(stateOf("app-1")).isEqualTo(MemberState.DOWN);
        assertThat(serversOfForty()).containsExactly("app-2");
    }

    @Test
    void upAgainAfterRiseCount() {
        start(Map.of("heartbeat.rise.count", "3"));
        alive("app-1", "app-2");
        advance(Duration.ofMillis(2_000));
        alive("app-2");
        advance(Duration.ofMillis(1_000));
        assertThat(stateOf("app-1")).isEqualTo(MemberState.DOWN);

        appServer("app-1");
        assertThat(stateOf("app-1")).isEqualTo(MemberState.JOINING);
        advance(Duration.ofMillis(500));
        appServer("app-1");
        assertThat(stateOf("app-1")).isEqualTo(MemberState.JOINING);
        assertThat(serversOfForty()).as("JOINING gets no keys").containsExactly("app-2");

        advance(Duration.ofMillis(500));
        alive("app-1", "app-2");

        assertThat(stateOf("app-1")).isEqualTo(MemberState.UP);
        assertThat(serversOfForty()).containsExactlyInAnyOrder("app-1", "app-2");
        assertThat(transitions("app_server", "joining")).isEqualTo(1);
        assertThat(transitions("app_server", "up")).as("two first heartbeats, one return").isEqualTo(3);
    }

    @Test
    void gapResetsHeartbeatsInARow() {
        start();
        alive("app-1", "app-2");
        advance(Duration.ofSeconds(3));
        appServer("app-1");
        assertThat(stateOf("app-1")).isEqualTo(MemberState.JOINING);

        advance(Duration.ofSeconds(3));
        assertThat(stateOf("app-1")).as("JOINING times out too").isEqualTo(MemberState.DOWN);
        appServer("app-1");

        assertThat(stateOf("app-1")).as("one heartbeat after a gap is not two in a row").isEqualTo(MemberState.JOINING);
    }

    @Test
    void drainingGetsNoNewKeysThenUp() {
        start();
        alive("app-1", "app-2");

        beat("app-1", Heartbeat.Kind.APP_SERVER, Heartbeat.State.DRAINING, 1, now.toEpochMilli());
        assertThat(stateOf("app-1")).isEqualTo(MemberState.DRAINING);
        assertThat(serversOfForty()).containsExactly("app-2");

        appServer("app-1");
        assertThat(stateOf("app-1")).isEqualTo(MemberState.UP);
        assertThat(serversOfForty()).containsExactlyInAnyOrder("app-1", "app-2");
        assertThat(transitions("app_server", "draining")).isEqualTo(1);
    }

    @Test
    void drainingLoadBalancerIsSkipped() throws Exception {
        start();
        alive("app-1");
        beat("lb-1", Heartbeat.Kind.LOAD_BALANCER, Heartbeat.State.DRAINING, 1, now.toEpochMilli());

        requests.pipeInput("client-1", request("client-1", Map.of()));

        ClientResponse response = responses.readValue();
        assertThat(response.status()).isEqualTo(503);
        assertThat(Json.mapper().readTree(response.body()).get("error").asText()).isEqualTo("no_live_load_balancer");
    }

    @Test
    void receiveTimeNotSenderClockCounts() {
        start();
        loadBalancer();
        // The sender's clock is 20 s behind, within heartbeat.max.age.ms: the heartbeat counts from its arrival.
        beat("app-1", Heartbeat.Kind.APP_SERVER, Heartbeat.State.UP, 1, now.toEpochMilli() - 20_000);

        assertThat(stateOf("app-1")).isEqualTo(MemberState.UP);
        assertThat(routeOne("client-1").serverId()).isEqualTo("app-1");
    }

    @Test
    void staleHeartbeatGivesNoLiveness() throws Exception {
        start();
        loadBalancer();
        beat("app-1", Heartbeat.Kind.APP_SERVER, Heartbeat.State.UP, 1, now.toEpochMilli() - 31_000);

        assertThat(stateOf("app-1")).isEqualTo(MemberState.DOWN);
        requests.pipeInput("client-1", request("client-1", Map.of()));
        assertThat(responses.readValue().status()).isEqualTo(503);
        assertThat(transitions("app_server", "down")).isEqualTo(1);
    }

    @Test
    void tombstoneRemovesMember() {
        start();
        alive("app-1", "app-2");

        heartbeats.pipeInput("app-1", (Heartbeat) null);

        assertThat(loadBalancing.membership().member("app-1")).isNull();
        assertThat(serversOfForty()).containsExactly("app-2");
    }

    // ---- selection ----

    @Test
    void weightsSetShareOfKeys() {
        start();
        loadBalancer();
        beat("app-1", Heartbeat.Kind.APP_SERVER, Heartbeat.State.UP, 3, now.toEpochMilli());
        beat("app-2", Heartbeat.Kind.APP_SERVER, Heartbeat.State.UP, 1, now.toEpochMilli());

        int heavy = 0;
        int clients = 400;
        for (int client = 0; client < clients; client++) {
            if (routeOne("client-" + client).serverId().equals("app-1")) {
                heavy++;
            }
        }
        assertThat((double) heavy / clients).isBetween(0.65, 0.85);
    }

    @Test
    void headerHashKeyRoutesBySession() {
        start(Map.of("pool.shop.hash.key", "header:X-Session-Id"));
        alive("app-1", "app-2", "app-3");

        Set<String> servers = new HashSet<>();
        for (int client = 0; client < 20; client++) {
            var result = routeOne(request("client-" + client, Map.of("x-session-id", "session-42")));
            assertThat(result.routingKey()).isEqualTo("session-42");
            servers.add(result.serverId());
        }
        assertThat(servers).as("one session, one server").hasSize(1);

        assertThat(routeOne("client-7").routingKey()).as("without the header, the client id").isEqualTo("client-7");
    }

    @Test
    void defaultHashKeyAppliesToUnlistedPools() {
        start(Map.of("lb.hash.key", "path", "lb.pools", "search", "pool.search.hash.key", "client"));
        alive("app-1", "app-2");

        var result = routeOne("client-1");

        assertThat(result.routingKey()).isEqualTo(result.request().path());
    }

    @Test
    void boundedLoadsSpillHotKey() {
        start(Map.of("pool.shop.bounded.load.factor", "1.25"));
        alive("app-1", "app-2");
        String firstChoice = routeOne("hot-client").serverId();

        Map<String, Integer> counts = new HashMap<>();
        counts.merge(firstChoice, 1, Integer::sum);
        int total = 40;
        int spilled = 0;
        for (int i = 1; i < total; i++) {
            var result = routeOne("hot-client");
            counts.merge(result.serverId(), 1, Integer::sum);
            assertThat(result.spilled()).as("spilled exactly when off the first choice")
                    .isEqualTo(!result.serverId().equals(firstChoice));
            if (result.spilled()) {
                spilled++;
            }
        }

        assertThat(counts.get(firstChoice)).as("capped at 1.25 times the mean").isLessThanOrEqualTo(25);
        assertThat(spilled).isEqualTo(total - counts.get(firstChoice)).isPositive();
        assertThat(registry.get("backbone.routing.lb.spilled").counter().count()).isEqualTo(spilled);
    }

    @Test
    void unboundedPoolNeverSpills() {
        start();
        alive("app-1", "app-2");
        for (int i = 0; i < 30; i++) {
            var result = routeOne("hot-client");
            assertThat(result.spilled()).isFalse();
        }
        assertThat(registry.get("backbone.routing.lb.spilled").counter().count()).isZero();
    }

    // ---- queries ----

    @Test
    void poolQueryShowsStateAndHeartbeat() throws Exception {
        start();
        alive("app-1", "app-2");
        advance(Duration.ofMillis(2_000));
        alive("app-2");
        advance(Duration.ofMillis(1_000));

        JsonNode pool = json(queries().pool(POOL));

        assertThat(pool.get("upAppServers").asInt()).isEqualTo(1);
        JsonNode members = pool.get("members");
        assertThat(members).hasSize(3);
        JsonNode app1 = members.get(0);
        assertThat(app1.get("serverId").asText()).isEqualTo("app-1");
        assertThat(app1.get("state").asText()).isEqualTo("DOWN");
        assertThat(app1.get("lastReceivedAgeMs").asLong()).isEqualTo(3_000);
        assertThat(app1.get("partitions").get(0).asInt()).isEqualTo(partitionOf("app-1"));
        assertThat(members.get(1).get("state").asText()).isEqualTo("UP");
        assertThat(members.get(2).get("kind").asText()).isEqualTo("LOAD_BALANCER");
        assertThat(pool.get("settings").get("hashKey").asText()).isEqualTo("client");
    }

    @Test
    void unknownPoolQueryIsNotFound() {
        start();
        alive("app-1");

        var error = org.assertj.core.api.Assertions.catchThrowableOfType(ApiException.class,
                () -> queries().pool("nowhere"));

        assertThat(error.status()).isEqualTo(404);
    }

    @Test
    void routeQueryMatchesRouting() throws Exception {
        start();
        alive("app-1", "app-2", "app-3");
        String routedTo = routeOne("client-5").serverId();

        JsonNode route = json(queries().route(POOL, "client-5"));

        assertThat(route.get("serverId").asText()).isEqualTo(routedTo);
        assertThat(route.get("firstChoice").asText()).isEqualTo(routedTo);
        assertThat(route.get("preference")).hasSize(3);
        assertThat(route.get("preference").get(0).asText()).isEqualTo(routedTo);
    }

    @Test
    void loadQueryCountsOneAndFiveMinutes() throws Exception {
        start();
        alive("app-1");
        routeOne("client-1");
        routeOne("client-2");
        for (int second = 0; second < 61; second++) {
            advance(Duration.ofSeconds(1));
            alive("app-1");
        }
        routeOne("client-3");

        JsonNode load = json(queries().load(POOL, null));

        JsonNode server = load.get("servers").get(0);
        assertThat(server.get("serverId").asText()).isEqualTo("app-1");
        assertThat(server.get("lastMinute").asLong()).as("the first two are 61 s old").isEqualTo(1);
        assertThat(server.get("lastFiveMinutes").asLong()).isEqualTo(3);
        assertThat(load.get("totalLastFiveMinutes").asLong()).isEqualTo(3);
    }
}
