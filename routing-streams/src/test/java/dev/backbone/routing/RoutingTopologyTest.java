package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.DeadLetter;
import dev.backbone.events.DnsRecord;
import dev.backbone.events.Heartbeat;
import dev.backbone.events.Json;
import dev.backbone.events.RoutedRequest;
import dev.backbone.events.Settings;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoutingTopologyTest {

    private static final Instant START = Instant.parse("2030-01-01T00:00:00Z");
    private static final String HOST = "shop.example.com";
    private static final String POOL = "shop";
    /** TopologyTestDriver reports one partition for every topic; PartitionersTest covers other reply partitions. */
    private static final int REPLY_PARTITION = 0;
    /** For tests about DNS that let heartbeats time out: a DOWN server is UP again after one heartbeat. */
    private static final Map<String, String> ONE_HEARTBEAT_RISES = Map.of("heartbeat.rise.count", "1");

    @TempDir
    Path stateDir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<DeadLetter> globalDeadLetters = new ArrayList<>();
    private TopologyTestDriver driver;
    private TestInputTopic<String, ClientRequest> requests;
    private TestInputTopic<byte[], byte[]> rawRequests;
    private TestInputTopic<String, DnsRecord> dnsRecords;
    private TestInputTopic<byte[], byte[]> rawDnsRecords;
    private TestInputTopic<String, Heartbeat> heartbeats;
    private TestInputTopic<byte[], byte[]> rawHeartbeats;
    private TestOutputTopic<String, RoutedRequest> routed;
    private TestOutputTopic<String, ClientResponse> responses;
    private TestOutputTopic<byte[], DeadLetter> deadLetters;
    private Instant now = START;
    private int requestCount;
    private LocalTraces localTraces;

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
        localTraces = new LocalTraces();
        var topology = RoutingTopology.build(config, registry, (key, letter, headers) -> globalDeadLetters.add(letter),
                new LoadBalancing(config, registry), localTraces);
        driver = new TopologyTestDriver(topology, config.streamsProperties(), START);

        requests = driver.createInputTopic(Topics.CLIENT_REQUESTS.name(), new StringSerializer(),
                Topics.CLIENT_REQUESTS.valueSerde().serializer());
        rawRequests = driver.createInputTopic(Topics.CLIENT_REQUESTS.name(), new ByteArraySerializer(), new ByteArraySerializer());
        dnsRecords = driver.createInputTopic(Topics.DNS_RECORDS.name(), new StringSerializer(),
                Topics.DNS_RECORDS.valueSerde().serializer());
        rawDnsRecords = driver.createInputTopic(Topics.DNS_RECORDS.name(), new ByteArraySerializer(), new ByteArraySerializer());
        heartbeats = driver.createInputTopic(Topics.LB_HEARTBEATS.name(), new StringSerializer(),
                Topics.LB_HEARTBEATS.valueSerde().serializer());
        rawHeartbeats = driver.createInputTopic(Topics.LB_HEARTBEATS.name(), new ByteArraySerializer(), new ByteArraySerializer());
        routed = driver.createOutputTopic(Topics.ROUTED_REQUESTS.name(), new StringDeserializer(),
                Topics.ROUTED_REQUESTS.valueSerde().deserializer());
        responses = driver.createOutputTopic(Topics.RESPONSES.name(), new StringDeserializer(),
                Topics.RESPONSES.valueSerde().deserializer());
        deadLetters = driver.createOutputTopic(Topics.DEAD_LETTERS.name(), new ByteArrayDeserializer(),
                Topics.DEAD_LETTERS.valueSerde().deserializer());
    }

    private void start() {
        start(Map.of());
    }

    // ---- fixtures ----

    private void publish(DnsRecord record) {
        dnsRecords.pipeInput(record.key(), record);
    }

    private static DnsRecord addressRecord(String scope, String name, long ttlSeconds, String... addresses) {
        return new DnsRecord(DnsRecord.SCHEMA_VERSION, name, scope, DnsRecord.Type.A, List.of(addresses), null, ttlSeconds, 1);
    }

    private static DnsRecord alias(String name, String target) {
        return new DnsRecord(DnsRecord.SCHEMA_VERSION, name, DnsRecord.GLOBAL, DnsRecord.Type.CNAME, List.of(), target, 60, 1);
    }

    private void loadBalancerAlive(String address) {
        heartbeats.pipeInput(address, new Heartbeat(Heartbeat.SCHEMA_VERSION, address, Heartbeat.Kind.LOAD_BALANCER, POOL,
                Heartbeat.State.UP, List.of(), 1, 1, now.toEpochMilli()));
    }

    private void appServer(String serverId, Heartbeat.State state, List<Integer> partitions) {
        heartbeats.pipeInput(serverId, new Heartbeat(Heartbeat.SCHEMA_VERSION, serverId, Heartbeat.Kind.APP_SERVER, POOL,
                state, partitions, 1, 1, now.toEpochMilli()));
    }

    /** Publishes a global A record for shop.example.com on live lb-1 and lb-2, and app servers app-1 and app-2 UP. */
    private void healthyShop(long ttlSeconds) {
        publish(addressRecord(DnsRecord.GLOBAL, HOST, ttlSeconds, "lb-1", "lb-2"));
        loadBalancerAlive("lb-1");
        loadBalancerAlive("lb-2");
        appServer("app-1", Heartbeat.State.UP, List.of(0, 1));
        appServer("app-2", Heartbeat.State.UP, List.of(2, 3));
    }

    private ClientRequest request(String clientId, String host, String region, String country) {
        requestCount++;
        return new ClientRequest(ClientRequest.SCHEMA_VERSION, "req-" + requestCount, clientId, region, country, host,
                "GET", "/products/" + requestCount, "", Map.of(), null, "ingest-1", REPLY_PARTITION, now.toEpochMilli(),
                now.toEpochMilli() + 10_000);
    }

    private void send(ClientRequest request) {
        requests.pipeInput(request.clientId(), request);
    }

    private RoutedRequest routeOne(String clientId, String host) {
        send(request(clientId, host, "eu-west", "DE"));
        assertThat(responses.isEmpty()).as("no error answer").isTrue();
        return routed.readValue();
    }

    private ClientResponse rejectOne(String clientId, String host) {
        send(request(clientId, host, "eu-west", "DE"));
        assertThat(routed.isEmpty()).as("nothing routed").isTrue();
        return responses.readValue();
    }

    private void advance(Duration duration) {
        now = now.plus(duration);
        driver.advanceWallClockTime(duration);
    }

    private static JsonNode body(ClientResponse response) throws Exception {
        return Json.mapper().readTree(response.body());
    }

    private double lookups(String result) {
        return registry.get("backbone.routing.dns.lookups").tag("result", result).counter().count();
    }

    // ---- DNS resolution ----

    @Test
    void resolutionPrefersRegionThenCountryThenGlobal() {
        start();
        healthyShop(0);
        loadBalancerAlive("lb-de");
        loadBalancerAlive("lb-eu");
        publish(addressRecord("region:eu-west", HOST, 0, "lb-eu"));
        publish(addressRecord("country:DE", HOST, 0, "lb-de"));

        send(request("c1", HOST, "eu-west", "DE"));
        send(request("c2", HOST, "eu-central", "DE"));
        send(request("c3", HOST, "us-east", "US"));
        send(request("c4", HOST, "", ""));

        var results = routed.readValuesToList();
        assertThat(results).extracting(RoutedRequest::resolvedBy).containsExactly("region", "country", "global", "global");
        assertThat(results.get(0).loadBalancer()).isEqualTo("lb-eu");
        assertThat(results.get(1).loadBalancer()).isEqualTo("lb-de");
        assertThat(results.get(2).loadBalancer()).isIn("lb-1", "lb-2");
        assertThat(lookups("region")).isEqualTo(1);
        assertThat(lookups("country")).isEqualTo(1);
        assertThat(lookups("global")).isEqualTo(2);
    }

    @Test
    void hostCaseDotAndPortIgnored() {
        start();
        healthyShop(0);

        for (String host : List.of("Shop.EXAMPLE.com", "shop.example.com.", "shop.example.com:8443", "SHOP.example.COM.:80")) {
            var result = routeOne("client-1", host);
            assertThat(result.resolvedBy()).as(host).isEqualTo("global");
        }
    }

    @Test
    void internationalizedNameResolvesThroughPunycode() {
        start();
        healthyShop(0);
        publish(addressRecord(DnsRecord.GLOBAL, "xn--bcher-kva.example", 0, "lb-1"));

        var result = routeOne("client-1", "Bücher.example");

        assertThat(result.loadBalancer()).isEqualTo("lb-1");
    }

    @Test
    void unicodeRecordNameStoredAsPunycode() {
        start();
        healthyShop(0);
        var unicode = new DnsRecord(DnsRecord.SCHEMA_VERSION, "bücher.example", DnsRecord.GLOBAL, DnsRecord.Type.A,
                List.of("lb-2"), null, 0, 1);
        dnsRecords.pipeInput("global/bücher.example", unicode);

        KeyValueStore<String, DnsRecord> store = driver.getKeyValueStore(RoutingTopology.DNS_RECORDS_STORE);
        assertThat(store.get("global/xn--bcher-kva.example")).isNotNull();
        assertThat(routeOne("client-1", "xn--bcher-kva.example").loadBalancer()).isEqualTo("lb-2");
    }

    @Test
    void cnameChainOfEightLinksResolves() {
        start();
        healthyShop(0);
        for (int i = 0; i < DnsResolver.MAX_CNAME_LINKS; i++) {
            String target = i == DnsResolver.MAX_CNAME_LINKS - 1 ? HOST : "alias" + (i + 1) + ".example";
            publish(alias("alias" + i + ".example", target));
        }

        var result = routeOne("client-1", "alias0.example");

        assertThat(result.resolvedBy()).isEqualTo("global");
        assertThat(result.loadBalancer()).isIn("lb-1", "lb-2");
    }

    @Test
    void cnameChainOfNineLinksIsResolutionError() throws Exception {
        start();
        healthyShop(0);
        for (int i = 0; i <= DnsResolver.MAX_CNAME_LINKS; i++) {
            String target = i == DnsResolver.MAX_CNAME_LINKS ? HOST : "alias" + (i + 1) + ".example";
            publish(alias("alias" + i + ".example", target));
        }

        var response = rejectOne("client-1", "alias0.example");

        assertThat(response.status()).isEqualTo(502);
        assertThat(body(response).get("reason").asText()).isEqualTo("cname_chain_too_long");
        assertThat(body(response).get("host").asText()).isEqualTo("alias0.example");
    }

    @Test
    void cnameLoopAnswers502NamingHost() throws Exception {
        start();
        healthyShop(0);
        publish(alias("a.example", "b.example"));
        publish(alias("b.example", "A.Example."));

        var response = rejectOne("client-1", "a.example");

        assertThat(response.status()).isEqualTo(502);
        assertThat(response.headers()).containsEntry("content-type", "application/json");
        var json = body(response);
        assertThat(json.get("error").asText()).isEqualTo("dns_resolution_failed");
        assertThat(json.get("reason").asText()).isEqualTo("cname_loop");
        assertThat(json.get("host").asText()).isEqualTo("a.example");
        assertThat(json.get("message").asText()).contains("a.example -> b.example -> a.example");
        assertThat(lookups("error")).isEqualTo(1);
    }

    @Test
    void unknownHostAnswers404NamingHost() throws Exception {
        start();
        healthyShop(0);

        var request = request("client-1", "Nowhere.Example", "eu-west", "DE");
        send(request);
        var response = responses.readRecord();

        assertThat(response.key()).isEqualTo(request.requestId());
        assertThat(response.value().status()).isEqualTo(404);
        assertThat(response.value().servedBy()).isEqualTo("routing");
        var json = body(response.value());
        assertThat(json.get("error").asText()).isEqualTo("unknown_host");
        assertThat(json.get("message").asText()).isEqualTo("no DNS record for host 'nowhere.example'");
        assertThat(json.get("host").asText()).isEqualTo("nowhere.example");
        assertThat(lookups("nxdomain")).isEqualTo(1);
        assertThat(registry.get("backbone.routing.errors").tag("status", "404").counter().count()).isEqualTo(1);
    }

    @Test
    void deletedRecordIsUnknownHost() {
        start();
        healthyShop(0);
        routeOne("client-1", HOST);

        dnsRecords.pipeInput(DnsRecord.keyOf(DnsRecord.GLOBAL, HOST), null);

        assertThat(rejectOne("client-1", HOST).status()).isEqualTo(404);
    }

    // ---- client DNS cache ----

    /** DNS semantics: an answer once given cannot be recalled, so deleting a record takes effect at the TTL. */
    @Test
    void recordDeletedWhileCachedServedUntilTtl() {
        // Time jumps past the heartbeat timeout; one heartbeat brings each server back.
        start(ONE_HEARTBEAT_RISES);
        healthyShop(30);

        assertThat(routeOne("client-1", HOST).resolvedBy()).isEqualTo("global");
        dnsRecords.pipeInput(DnsRecord.keyOf(DnsRecord.GLOBAL, HOST), null);
        advance(Duration.ofSeconds(29));
        loadBalancerAlive("lb-1");
        loadBalancerAlive("lb-2");
        appServer("app-1", Heartbeat.State.UP, List.of(0));

        assertThat(routeOne("client-1", HOST).resolvedBy()).isEqualTo("cache");
        assertThat(lookups("cache")).isEqualTo(1);
        assertThat(rejectOne("client-2", HOST).status()).as("another client has its own cache").isEqualTo(404);

        advance(Duration.ofSeconds(1));
        assertThat(rejectOne("client-1", HOST).status()).as("expired at the TTL").isEqualTo(404);
    }

    @Test
    void ttlZeroIsNeverCached() {
        start();
        healthyShop(0);

        assertThat(routeOne("client-1", HOST).resolvedBy()).isEqualTo("global");
        assertThat(routeOne("client-1", HOST).resolvedBy()).isEqualTo("global");

        KeyValueStore<String, CachedAnswer> cache = driver.getKeyValueStore(RoutingTopology.CLIENT_DNS_CACHE_STORE);
        assertThat(cache.approximateNumEntries()).isZero();
    }

    @Test
    void cnameChainIsCachedForShortestTtl() {
        start();
        healthyShop(300);
        publish(new DnsRecord(DnsRecord.SCHEMA_VERSION, "www.example.com", DnsRecord.GLOBAL, DnsRecord.Type.CNAME,
                List.of(), HOST, 10, 1));

        routeOne("client-1", "www.example.com");
        KeyValueStore<String, CachedAnswer> cache = driver.getKeyValueStore(RoutingTopology.CLIENT_DNS_CACHE_STORE);
        var entry = cache.get(ClientDnsCache.keyOf("client-1", "www.example.com"));

        assertThat(entry.expiresAtMs()).isEqualTo(START.plusSeconds(10).toEpochMilli());
    }

    @Test
    void expiredEntriesAreRemovedByWallClockPunctuator() {
        start(Map.of("dns.cache.purge.interval.ms", "1000"));
        healthyShop(5);
        routeOne("client-1", HOST);
        routeOne("client-2", HOST);
        KeyValueStore<String, CachedAnswer> cache = driver.getKeyValueStore(RoutingTopology.CLIENT_DNS_CACHE_STORE);
        assertThat(cache.get(ClientDnsCache.keyOf("client-1", HOST))).isNotNull();

        advance(Duration.ofSeconds(4));
        assertThat(cache.get(ClientDnsCache.keyOf("client-1", HOST))).as("still fresh").isNotNull();

        advance(Duration.ofSeconds(2));
        assertThat(cache.get(ClientDnsCache.keyOf("client-1", HOST))).isNull();
        assertThat(cache.get(ClientDnsCache.keyOf("client-2", HOST))).isNull();
    }

    @Test
    void nxdomainCachedThenRecordCreated() {
        start(Map.of("dns.negative.ttl.ms", "5000"));
        healthyShop(0);
        assertThat(rejectOne("client-1", "new.example.com").status()).isEqualTo(404);

        publish(addressRecord(DnsRecord.GLOBAL, "new.example.com", 0, "lb-1"));
        assertThat(rejectOne("client-1", "new.example.com").status()).as("cached NXDOMAIN").isEqualTo(404);
        assertThat(lookups("cache")).isEqualTo(1);
        assertThat(routeOne("client-2", "new.example.com").resolvedBy()).as("a client without a negative entry")
                .isEqualTo("global");

        advance(Duration.ofMillis(4_999));
        loadBalancerAlive("lb-1");
        appServer("app-1", Heartbeat.State.UP, List.of(0));
        assertThat(rejectOne("client-1", "new.example.com").status()).as("negative entry not yet expired").isEqualTo(404);

        advance(Duration.ofMillis(1));
        loadBalancerAlive("lb-1");
        appServer("app-1", Heartbeat.State.UP, List.of(0));
        assertThat(routeOne("client-1", "new.example.com").resolvedBy()).isEqualTo("global");
    }

    @Test
    void clientCacheEvictsSoonestExpiryAtLimit() {
        start(Map.of("dns.cache.max.entries.per.client", "2"));
        healthyShop(0);
        publish(addressRecord(DnsRecord.GLOBAL, "a.example", 10, "lb-1"));
        publish(addressRecord(DnsRecord.GLOBAL, "b.example", 20, "lb-1"));
        publish(addressRecord(DnsRecord.GLOBAL, "c.example", 30, "lb-1"));

        routeOne("client-1", "a.example");
        routeOne("client-1", "b.example");
        routeOne("client-1", "c.example");

        KeyValueStore<String, CachedAnswer> cache = driver.getKeyValueStore(RoutingTopology.CLIENT_DNS_CACHE_STORE);
        assertThat(cache.get(ClientDnsCache.keyOf("client-1", "a.example"))).isNull();
        assertThat(cache.get(ClientDnsCache.keyOf("client-1", "b.example"))).isNotNull();
        assertThat(cache.get(ClientDnsCache.keyOf("client-1", "c.example"))).isNotNull();
    }

    // ---- waterfall over load balancers ----

    @Test
    void waterfallSkipsDeadLoadBalancer() {
        // Time jumps past the heartbeat timeout; one heartbeat brings each server back.
        start(ONE_HEARTBEAT_RISES);
        healthyShop(0);
        var order = AddressOrder.forClient(List.of("lb-1", "lb-2"), "client-1", HOST, 1);
        String first = order.get(0);
        String second = order.get(1);
        advance(Duration.ofSeconds(3));
        loadBalancerAlive(second);
        appServer("app-1", Heartbeat.State.UP, List.of(0));

        var result = routeOne("client-1", HOST);

        assertThat(result.loadBalancer()).isEqualTo(second);
        assertThat(result.skippedAddresses()).containsExactly(first);
    }

    @Test
    void allLoadBalancersDeadAnswers503WithRetryAfter() throws Exception {
        start();
        healthyShop(0);
        advance(Duration.ofSeconds(3));
        appServer("app-1", Heartbeat.State.UP, List.of(0));

        var response = rejectOne("client-1", HOST);

        assertThat(response.status()).isEqualTo(503);
        assertThat(response.headers()).containsEntry("retry-after", "1");
        assertThat(body(response).get("error").asText()).isEqualTo("no_live_load_balancer");
        assertThat(body(response).get("message").asText()).contains("lb-1").contains("lb-2");
    }

    @Test
    void addressOrderIsStablePerClient() {
        start();
        healthyShop(0);
        publish(addressRecord(DnsRecord.GLOBAL, HOST, 0, "lb-1", "lb-2", "lb-3", "lb-4"));
        loadBalancerAlive("lb-3");
        loadBalancerAlive("lb-4");

        Set<String> firstChoices = new HashSet<>();
        for (int client = 0; client < 40; client++) {
            String first = routeOne("client-" + client, HOST).loadBalancer();
            assertThat(routeOne("client-" + client, HOST).loadBalancer()).isEqualTo(first);
            firstChoices.add(first);
        }
        assertThat(firstChoices).containsExactlyInAnyOrder("lb-1", "lb-2", "lb-3", "lb-4");
    }

    // ---- load balancing ----

    @Test
    void noHealthyAppServerAnswers503WithRetryAfter() throws Exception {
        start();
        publish(addressRecord(DnsRecord.GLOBAL, HOST, 0, "lb-1"));
        loadBalancerAlive("lb-1");

        var response = rejectOne("client-1", HOST);

        assertThat(response.status()).isEqualTo(503);
        assertThat(response.headers()).containsEntry("retry-after", "1");
        var json = body(response);
        assertThat(json.get("error").asText()).isEqualTo("no_healthy_server");
        assertThat(json.get("pool").asText()).isEqualTo(POOL);
        assertThat(json.get("load_balancer").asText()).isEqualTo("lb-1");
    }

    @Test
    void appServerMissingHeartbeatsGetsNoNewRequests() {
        start();
        healthyShop(0);
        Set<String> before = new HashSet<>();
        for (int client = 0; client < 30; client++) {
            before.add(routeOne("client-" + client, HOST).serverId());
        }
        assertThat(before).containsExactlyInAnyOrder("app-1", "app-2");

        advance(Duration.ofMillis(2_999));
        loadBalancerAlive("lb-1");
        loadBalancerAlive("lb-2");
        appServer("app-2", Heartbeat.State.UP, List.of(2, 3));
        Set<String> withinTimeout = new HashSet<>();
        for (int client = 0; client < 30; client++) {
            withinTimeout.add(routeOne("client-" + client, HOST).serverId());
        }
        assertThat(withinTimeout).as("app-1 is alive until its heartbeat is 3000 ms old").contains("app-1");
        advance(Duration.ofMillis(1));

        for (int client = 0; client < 30; client++) {
            assertThat(routeOne("client-" + client, HOST).serverId()).isEqualTo("app-2");
        }
    }

    @Test
    void drainingAppServerGetsNoNewKeys() {
        start();
        healthyShop(0);
        appServer("app-1", Heartbeat.State.DRAINING, List.of(0, 1));

        for (int client = 0; client < 30; client++) {
            assertThat(routeOne("client-" + client, HOST).serverId()).isEqualTo("app-2");
        }
    }

    @Test
    void sameClientStaysOnOneAppServer() {
        start();
        healthyShop(0);
        appServer("app-3", Heartbeat.State.UP, List.of(4));

        String first = routeOne("client-7", HOST).serverId();
        for (int i = 0; i < 5; i++) {
            var result = routeOne("client-7", HOST);
            assertThat(result.serverId()).isEqualTo(first);
            assertThat(result.routingKey()).isEqualTo("client-7");
        }
    }

    @Test
    void pathHashKeyRoutesByPath() {
        start(Map.of("lb.hash.key", "path"));
        healthyShop(0);

        var result = routeOne("client-1", HOST);

        assertThat(result.routingKey()).isEqualTo(result.request().path());
        assertThat(result.pool()).isEqualTo(POOL);
    }

    @Test
    void routedRecordKeyedByRoutingKey() {
        start();
        healthyShop(0);
        var request = request("client-9", HOST, "eu-west", "DE");

        send(request);
        var record = routed.readRecord();

        assertThat(record.key()).isEqualTo("client-9");
        assertThat(record.value().request()).isEqualTo(request);
        assertThat(record.value().routedAtMs()).isEqualTo(START.toEpochMilli());
        assertThat(registry.get("backbone.routing.requests.routed").counter().count()).isEqualTo(1);
    }

    // ---- malformed records ----

    @Test
    void malformedRequestDeadLetteredThenRouting() {
        start();
        healthyShop(0);

        rawRequests.pipeInput("client-1".getBytes(StandardCharsets.UTF_8), "{not json".getBytes(StandardCharsets.UTF_8));
        rawRequests.pipeInput("client-1".getBytes(StandardCharsets.UTF_8),
                "{\"schemaVersion\":1,\"requestId\":\"r\"}".getBytes(StandardCharsets.UTF_8));
        var next = routeOne("client-1", HOST);

        var letters = deadLetters.readValuesToList();
        assertThat(letters).hasSize(2);
        assertThat(letters.get(0).topic()).isEqualTo(Topics.CLIENT_REQUESTS.name());
        assertThat(letters.get(0).offset()).isEqualTo(0);
        assertThat(letters.get(0).valueBase64()).isEqualTo(java.util.Base64.getEncoder().encodeToString(
                "{not json".getBytes(StandardCharsets.UTF_8)));
        assertThat(letters.get(1).offset()).isEqualTo(1);
        assertThat(letters.get(1).error()).contains("invalid ClientRequest JSON");
        assertThat(next.serverId()).isIn("app-1", "app-2");
    }

    @Test
    void replayedRecordKeepsReplayHeader() {
        start();
        healthyShop(0);
        var replayed = new org.apache.kafka.common.header.internals.RecordHeaders();
        replayed.add(DeadLetter.REPLAY_HEADER, "0:12".getBytes(StandardCharsets.UTF_8));

        rawRequests.pipeInput(new org.apache.kafka.streams.test.TestRecord<>("client-1".getBytes(StandardCharsets.UTF_8),
                "{not json".getBytes(StandardCharsets.UTF_8), replayed));
        rawRequests.pipeInput("client-1".getBytes(StandardCharsets.UTF_8), "{not json".getBytes(StandardCharsets.UTF_8));

        var letters = deadLetters.readRecordsToList();
        assertThat(letters).hasSize(2);
        assertThat(letters.get(0).headers().lastHeader(DeadLetter.REPLAY_HEADER).value())
                .isEqualTo("0:12".getBytes(StandardCharsets.UTF_8));
        assertThat(letters.get(1).headers().lastHeader(DeadLetter.REPLAY_HEADER)).isNull();
    }

    @Test
    void nullClientRequestIsDeadLettered() {
        start();
        healthyShop(0);

        requests.pipeInput("client-1", null);

        var letter = deadLetters.readValue();
        assertThat(letter.topic()).isEqualTo(Topics.CLIENT_REQUESTS.name());
        assertThat(letter.error()).contains("null");
        assertThat(routeOne("client-1", HOST).serverId()).isIn("app-1", "app-2");
    }

    @Test
    void malformedDnsRecordDeadLettered() {
        start();
        healthyShop(0);

        rawDnsRecords.pipeInput("global/bad.example".getBytes(StandardCharsets.UTF_8), "[1,2".getBytes(StandardCharsets.UTF_8));
        dnsRecords.pipeInput("global/other.example", addressRecord(DnsRecord.GLOBAL, "shop.example.com", 0, "lb-1"));
        dnsRecords.pipeInput("planet:mars/x.example", addressRecord("planet:mars", "x.example", 0, "lb-1"));
        publish(addressRecord(DnsRecord.GLOBAL, "good.example", 0, "lb-1"));

        assertThat(globalDeadLetters).hasSize(3);
        assertThat(globalDeadLetters).extracting(DeadLetter::topic).containsOnly(Topics.DNS_RECORDS.name());
        assertThat(globalDeadLetters.get(1).error()).contains("does not match");
        assertThat(globalDeadLetters.get(2).error()).contains("not a valid scope");
        assertThat(routeOne("client-1", "good.example").loadBalancer()).isEqualTo("lb-1");
        assertThat(registry.get("backbone.routing.dead.letters").tag("topic", Topics.DNS_RECORDS.name()).counter().count())
                .isEqualTo(3);
    }

    @Test
    void malformedHeartbeatDeadLettered() {
        start();
        publish(addressRecord(DnsRecord.GLOBAL, HOST, 0, "lb-1"));

        rawHeartbeats.pipeInput("app-9".getBytes(StandardCharsets.UTF_8), "{\"serverId\":".getBytes(StandardCharsets.UTF_8));
        heartbeats.pipeInput("app-8", new Heartbeat(Heartbeat.SCHEMA_VERSION, "app-1", Heartbeat.Kind.APP_SERVER, POOL,
                Heartbeat.State.UP, List.of(), 1, 1, now.toEpochMilli()));
        loadBalancerAlive("lb-1");
        appServer("app-1", Heartbeat.State.UP, List.of(5));

        assertThat(globalDeadLetters).hasSize(2);
        assertThat(globalDeadLetters.get(0).topic()).isEqualTo(Topics.LB_HEARTBEATS.name());
        assertThat(globalDeadLetters.get(0).consumer()).isEqualTo(RoutingConfig.DEFAULT_APPLICATION_ID);
        assertThat(routeOne("client-1", HOST).serverId()).isEqualTo("app-1");
    }

    @Test
    void invalidHostAnswers400() throws Exception {
        start();
        healthyShop(0);

        var response = rejectOne("client-1", "shop.example.com:http");

        assertThat(response.status()).isEqualTo(400);
        assertThat(body(response).get("error").asText()).isEqualTo("invalid_host");
    }

    // ---- rules of the DNS issue not covered above ----

    private KeyValueStore<String, CachedAnswer> cacheStore() {
        return driver.getKeyValueStore(RoutingTopology.CLIENT_DNS_CACHE_STORE);
    }

    private KeyValueStore<String, String> expiryIndex() {
        return driver.getKeyValueStore(RoutingTopology.CLIENT_DNS_CACHE_EXPIRY_STORE);
    }

    private static int count(KeyValueStore<String, ?> store) {
        int count = 0;
        try (var all = store.all()) {
            while (all.hasNext()) {
                all.next();
                count++;
            }
        }
        return count;
    }

    @Test
    void selfAliasIsResolutionError() throws Exception {
        start();
        healthyShop(0);
        publish(alias("self.example", "Self.Example."));

        var response = rejectOne("client-1", "self.example");

        assertThat(response.status()).isEqualTo(502);
        assertThat(body(response).get("reason").asText()).isEqualTo("cname_loop");
        assertThat(body(response).get("message").asText()).contains("self.example -> self.example");
        assertThat(count(cacheStore())).as("errors are not cached").isZero();
    }

    @Test
    void danglingAliasIsUnknownHost() throws Exception {
        start();
        healthyShop(0);
        publish(alias("www.example.com", "gone.example.com"));

        var response = rejectOne("client-1", "www.example.com");

        assertThat(response.status()).isEqualTo(404);
        assertThat(body(response).get("host").asText()).isEqualTo("www.example.com");
    }

    @Test
    void mixedCaseRecordStoredCanonical() {
        start();
        healthyShop(0);
        var record = new DnsRecord(DnsRecord.SCHEMA_VERSION, "Mixed.Example.COM.", "Region:EU-West", DnsRecord.Type.A,
                List.of("lb-2"), null, 0, 1);
        dnsRecords.pipeInput("REGION:eu-west/MIXED.example.com.", record);

        KeyValueStore<String, DnsRecord> store = driver.getKeyValueStore(RoutingTopology.DNS_RECORDS_STORE);
        var stored = store.get("region:eu-west/mixed.example.com");
        assertThat(stored).isNotNull();
        assertThat(stored.name()).isEqualTo("mixed.example.com");
        assertThat(stored.scope()).isEqualTo("region:eu-west");
        assertThat(globalDeadLetters).isEmpty();
        var routedRequest = routeOne("client-1", "mixed.EXAMPLE.com.");
        assertThat(routedRequest.resolvedBy()).isEqualTo("region");
        assertThat(routedRequest.loadBalancer()).isEqualTo("lb-2");
    }

    @Test
    void countryScopeStoredUpperCase() {
        start();
        healthyShop(0);
        loadBalancerAlive("lb-de");
        dnsRecords.pipeInput("country:de/" + HOST, addressRecord("country:de", HOST, 0, "lb-de"));

        KeyValueStore<String, DnsRecord> store = driver.getKeyValueStore(RoutingTopology.DNS_RECORDS_STORE);
        assertThat(store.get("country:de/" + HOST).scope()).isEqualTo("country:DE");
        send(request("client-1", HOST, "eu-central", "de"));
        var routedRequest = routed.readValue();
        assertThat(routedRequest.resolvedBy()).isEqualTo("country");
        assertThat(routedRequest.loadBalancer()).isEqualTo("lb-de");
    }

    @Test
    void recordBreakingRulesDeadLetteredAndIgnored() {
        start();
        healthyShop(0);
        var manyAddresses = new ArrayList<String>();
        for (int i = 0; i <= DnsRecordRules.MAX_ADDRESSES; i++) {
            manyAddresses.add("lb-" + i);
        }

        publish(addressRecord(DnsRecord.GLOBAL, HOST, DnsRecordRules.MAX_TTL_SECONDS + 1, "lb-9"));
        publish(new DnsRecord(DnsRecord.SCHEMA_VERSION, HOST, DnsRecord.GLOBAL, DnsRecord.Type.A, manyAddresses, null, 0, 2));
        publish(addressRecord(DnsRecord.GLOBAL, HOST, 0, "lb 9"));
        publish(addressRecord(DnsRecord.GLOBAL, "bad_name.example", 0, "lb-9"));

        assertThat(globalDeadLetters).extracting(DeadLetter::error).satisfiesExactly(
                error -> assertThat(error).startsWith("ttlSeconds '604801' is out of range"),
                error -> assertThat(error).startsWith("addresses '1001 addresses' has too many addresses"),
                error -> assertThat(error).startsWith("addresses[0] 'lb 9' is not a valid address"),
                error -> assertThat(error).contains("invalid label 'bad_name'"));
        assertThat(routeOne("client-1", HOST).loadBalancer()).as("the valid record stays").isIn("lb-1", "lb-2");
    }

    @Test
    void ttlExpiryMidStreamServesNewRecord() {
        // Time jumps past the heartbeat timeout; one heartbeat brings each server back.
        start(ONE_HEARTBEAT_RISES);
        healthyShop(10);

        assertThat(routeOne("client-1", HOST).resolvedBy()).isEqualTo("global");
        advance(Duration.ofSeconds(5));
        healthyHeartbeats();
        assertThat(routeOne("client-1", HOST).resolvedBy()).isEqualTo("cache");

        advance(Duration.ofSeconds(1));
        loadBalancerAlive("lb-3");
        publish(new DnsRecord(DnsRecord.SCHEMA_VERSION, HOST, DnsRecord.GLOBAL, DnsRecord.Type.A, List.of("lb-3"), null, 10, 2));
        advance(Duration.ofMillis(3_999));
        healthyHeartbeats();
        loadBalancerAlive("lb-3");
        var cached = routeOne("client-1", HOST);
        assertThat(cached.resolvedBy()).isEqualTo("cache");
        assertThat(cached.loadBalancer()).as("the old record until its TTL passes").isIn("lb-1", "lb-2");

        advance(Duration.ofMillis(1));
        var renewed = routeOne("client-1", HOST);
        assertThat(renewed.resolvedBy()).isEqualTo("global");
        assertThat(renewed.loadBalancer()).isEqualTo("lb-3");
        assertThat(routeOne("client-1", HOST).resolvedBy()).isEqualTo("cache");
    }

    private void healthyHeartbeats() {
        loadBalancerAlive("lb-1");
        loadBalancerAlive("lb-2");
        appServer("app-1", Heartbeat.State.UP, List.of(0, 1));
        appServer("app-2", Heartbeat.State.UP, List.of(2, 3));
    }

    @Test
    void negativeTtlZeroNotCached() {
        start(Map.of("dns.negative.ttl.ms", "0"));
        healthyShop(0);
        assertThat(rejectOne("client-1", "new.example.com").status()).isEqualTo(404);

        publish(addressRecord(DnsRecord.GLOBAL, "new.example.com", 0, "lb-1"));

        assertThat(routeOne("client-1", "new.example.com").resolvedBy()).isEqualTo("global");
        assertThat(lookups("nxdomain")).isEqualTo(1);
        assertThat(lookups("cache")).isZero();
    }

    @Test
    void clientLimitEvictsOnlyThatClient() {
        start(Map.of("dns.cache.max.entries.per.client", "2"));
        healthyShop(0);
        for (String name : List.of("a.example", "b.example", "c.example")) {
            publish(addressRecord(DnsRecord.GLOBAL, name, 60, "lb-1"));
        }
        routeOne("client-2", "a.example");

        routeOne("client-1", "a.example");
        advance(Duration.ofSeconds(1));
        loadBalancerAlive("lb-1");
        routeOne("client-1", "b.example");
        routeOne("client-1", "c.example");

        assertThat(cacheStore().get(ClientDnsCache.keyOf("client-1", "a.example"))).as("earliest expiry evicted").isNull();
        assertThat(cacheStore().get(ClientDnsCache.keyOf("client-1", "b.example"))).isNotNull();
        assertThat(cacheStore().get(ClientDnsCache.keyOf("client-1", "c.example"))).isNotNull();
        assertThat(cacheStore().get(ClientDnsCache.keyOf("client-2", "a.example"))).as("another client").isNotNull();
        assertThat(count(expiryIndex())).as("one index entry per cached answer").isEqualTo(3);
    }

    @Test
    void purgeUsesExpiryIndex() {
        // Time jumps past the heartbeat timeout; one heartbeat brings each server back.
        start(Map.of("dns.cache.purge.interval.ms", "60000", "heartbeat.rise.count", "1"));
        healthyShop(5);
        routeOne("client-1", HOST);
        advance(Duration.ofSeconds(6));
        healthyHeartbeats();
        assertThat(routeOne("client-1", HOST).resolvedBy()).as("stale entry replaced").isEqualTo("global");
        assertThat(count(expiryIndex())).as("the replaced entry's index entry is gone").isEqualTo(1);
        publish(addressRecord(DnsRecord.GLOBAL, "other.example", 120, "lb-1"));
        routeOne("client-2", "other.example");

        advance(Duration.ofSeconds(54));

        assertThat(cacheStore().get(ClientDnsCache.keyOf("client-1", HOST))).as("expired at 11 s, purged at 60 s").isNull();
        assertThat(cacheStore().get(ClientDnsCache.keyOf("client-2", "other.example"))).as("fresh until 126 s").isNotNull();
        assertThat(count(cacheStore())).isEqualTo(1);
        assertThat(count(expiryIndex())).isEqualTo(1);
    }

    @Test
    void allAddressesDeadRecordsEveryAddress() throws Exception {
        start();
        publish(addressRecord(DnsRecord.GLOBAL, HOST, 0, "lb-1", "lb-2", "lb-3"));
        appServer("app-1", Heartbeat.State.UP, List.of(0));

        var response = rejectOne("client-1", HOST);

        assertThat(response.status()).isEqualTo(503);
        assertThat(response.headers()).containsEntry("retry-after", "1");
        var order = AddressOrder.forClient(List.of("lb-1", "lb-2", "lb-3"), "client-1", HOST, 1);
        assertThat(body(response).get("message").asText()).endsWith("tried " + String.join(", ", order));
        assertThat(registry.get("backbone.routing.errors").tag("status", "503").counter().count()).isEqualTo(1);
    }

    @Test
    void fiveHundredAddressWaterfall() {
        start();
        appServer("app-1", Heartbeat.State.UP, List.of(0));
        var addresses = new ArrayList<String>();
        for (int i = 0; i < 500; i++) {
            addresses.add("lb-" + i);
        }
        publish(new DnsRecord(DnsRecord.SCHEMA_VERSION, HOST, DnsRecord.GLOBAL, DnsRecord.Type.A, addresses, null, 60, 4));
        var order = AddressOrder.forClient(addresses, "client-1", HOST, 4);
        String onlyLive = order.get(499);
        loadBalancerAlive(onlyLive);

        var result = routeOne("client-1", HOST);

        assertThat(result.loadBalancer()).isEqualTo(onlyLive);
        assertThat(result.skippedAddresses()).hasSize(499);
        assertThat(result.skippedAddresses()).containsExactlyElementsOf(order.subList(0, 499));
        var cached = cacheStore().get(ClientDnsCache.keyOf("client-1", HOST));
        assertThat(cached.addresses()).containsExactlyElementsOf(order);
        assertThat(cached.addresses()).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(addresses);
    }

    @Test
    void cacheGaugeAndResolutionTimer() {
        start();
        healthyShop(60);

        routeOne("client-1", HOST);
        routeOne("client-2", HOST);
        routeOne("client-1", HOST);
        rejectOne("client-3", "nowhere.example");

        assertThat(registry.get("backbone.routing.dns.cache.entries").gauge().value()).isEqualTo(3);
        var timer = registry.get("backbone.routing.dns.resolution").timer();
        assertThat(timer.count()).as("cache hits skip resolution").isEqualTo(3);
        assertThat(lookups("cache")).isEqualTo(1);
        assertThat(lookups("global")).isEqualTo(2);
        assertThat(lookups("nxdomain")).isEqualTo(1);
    }

    @Test
    void queryAnswerMatchesCachedAnswer() {
        start();
        healthyShop(60);
        loadBalancerAlive("lb-eu");
        publish(addressRecord("region:eu-west", HOST, 30, "lb-eu", "lb-1", "lb-2"));
        routeOne("client-1", HOST);
        KeyValueStore<String, DnsRecord> records = driver.getKeyValueStore(RoutingTopology.DNS_RECORDS_STORE);

        var answers = new DnsAnswers(new DnsResolver(records::get), 5_000);
        var queried = answers.answer("client-1", HOST, "eu-west", "DE", now.toEpochMilli());

        assertThat(queried.answer()).isEqualTo(cacheStore().get(ClientDnsCache.keyOf("client-1", HOST)));
        assertThat(((DnsResolver.Resolved) queried.resolution()).chain()).containsExactly(HOST);
    }

    // ---- routing traces ----

    /** Returns the trace of a request as the trace query finds it. */
    private RoutingTrace trace(String requestId) {
        return localTraces.find(requestId, partition -> traceBatches());
    }

    private KeyValueStore<Long, byte[]> traceBatches() {
        return driver.getKeyValueStore(RoutingTopology.ROUTING_TRACES_STORE);
    }

    /** Returns the traces in the batch store, in the order they were written. */
    private List<RoutingTrace> writtenTraces() {
        List<RoutingTrace> written = new ArrayList<>();
        try (var batches = traceBatches().all()) {
            batches.forEachRemaining(batch -> written.addAll(StoreSerdes.readTraceBatch("test", batch.value)));
        }
        return written;
    }

    @Test
    void routedRequestLeavesTrace() {
        start();
        healthyShop(60);

        var first = routeOne("client-1", HOST);
        advance(Duration.ofSeconds(1));
        var second = routeOne("client-1", HOST);

        RoutingTrace resolved = trace(first.request().requestId());
        assertThat(resolved.outcome()).isEqualTo("routed");
        assertThat(resolved.status()).isEqualTo(200);
        assertThat(resolved.error()).isNull();
        assertThat(resolved.clientId()).isEqualTo("client-1");
        assertThat(resolved.host()).isEqualTo(HOST);
        assertThat(resolved.resolvedBy()).isEqualTo("global");
        assertThat(resolved.dnsCacheHit()).isFalse();
        assertThat(resolved.loadBalancer()).isEqualTo(first.loadBalancer());
        assertThat(resolved.pool()).isEqualTo(POOL);
        assertThat(resolved.serverId()).isEqualTo(first.serverId());
        assertThat(resolved.skippedAddresses()).isEmpty();
        assertThat(resolved.routedAtMs()).isEqualTo(START.toEpochMilli());
        RoutingTrace cached = trace(second.request().requestId());
        assertThat(cached.resolvedBy()).isEqualTo("cache");
        assertThat(cached.dnsCacheHit()).isTrue();
        assertThat(cached.routedAtMs()).isEqualTo(START.plusSeconds(1).toEpochMilli());
    }

    @Test
    void tracesWrittenAtCommit() {
        // The test driver commits after each input record, as Kafka Streams does every commit.interval.ms.
        start();
        healthyShop(60);

        var first = routeOne("client-1", HOST);
        var second = routeOne("client-2", HOST);

        assertThat(writtenTraces()).extracting(RoutingTrace::requestId)
                .containsExactly(first.request().requestId(), second.request().requestId());
        assertThat(traceBatches().approximateNumEntries()).as("one batch per commit").isEqualTo(2);
    }

    @Test
    void rejectedRequestLeavesTrace() {
        start();
        healthyShop(60);
        var unknown = request("client-1", "nowhere.example.com", "eu-west", "DE");
        send(unknown);
        assertThat(responses.readValue().status()).isEqualTo(404);

        RoutingTrace rejected = trace(unknown.requestId());

        assertThat(rejected.outcome()).isEqualTo("rejected");
        assertThat(rejected.status()).isEqualTo(404);
        assertThat(rejected.error()).isEqualTo("unknown_host");
        assertThat(rejected.resolvedBy()).isEqualTo("nxdomain");
        assertThat(rejected.loadBalancer()).isNull();
        assertThat(rejected.serverId()).isNull();
    }

    @Test
    void skippedLoadBalancerInTrace() {
        start(ONE_HEARTBEAT_RISES);
        healthyShop(0);
        var order = AddressOrder.forClient(List.of("lb-1", "lb-2"), "client-1", HOST, 1);
        advance(Duration.ofSeconds(3));
        loadBalancerAlive(order.get(1));
        appServer("app-1", Heartbeat.State.UP, List.of(0));

        var result = routeOne("client-1", HOST);

        RoutingTrace routedTrace = trace(result.request().requestId());
        assertThat(routedTrace.skippedAddresses()).containsExactly(order.get(0));
        assertThat(routedTrace.loadBalancer()).isEqualTo(order.get(1));
    }

    @Test
    void tracesExpireAfterRetention() {
        start(Map.of("trace.retention.ms", "10000"));
        healthyShop(60);
        var routedRequest = routeOne("client-1", HOST);
        String requestId = routedRequest.request().requestId();

        advance(Duration.ofSeconds(9));
        assertThat(trace(requestId)).as("within retention").isNotNull();
        assertThat(registry.get("backbone.routing.traces.held").gauge().value()).as("traces held").isEqualTo(1);

        advance(Duration.ofSeconds(3));
        assertThat(trace(requestId)).as("past retention and one purge interval").isNull();
        assertThat(registry.get("backbone.routing.traces.held").gauge().value()).as("traces held").isZero();
    }

    @Test
    void zeroRetentionStoresNoTraces() {
        start(Map.of("trace.retention.ms", "0"));
        healthyShop(60);

        var routedRequest = routeOne("client-1", HOST);
        var unknown = request("client-1", "nowhere.example.com", "eu-west", "DE");
        send(unknown);

        assertThat(routedRequest.serverId()).isNotNull();
        assertThat(responses.readValue().status()).isEqualTo(404);
        assertThat(trace(routedRequest.request().requestId())).isNull();
        assertThat(trace(unknown.requestId())).isNull();
        assertThat(registry.get("backbone.routing.traces.held").gauge().value()).isZero();
    }

    @Test
    void retentionBelowOneSecondIsRejected() {
        assertThatThrownBy(() -> start(Map.of("trace.retention.ms", "500")))
                .hasMessageContaining("trace.retention.ms=500").hasMessageContaining("0 to store no routing traces");
    }
}
