package dev.backbone.routing;

import dev.backbone.events.HostNames;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.DeadLetter;
import dev.backbone.events.DnsRecord;
import dev.backbone.events.Heartbeat;
import dev.backbone.events.RoutedRequest;
import dev.backbone.routing.RoutingMetrics.LookupResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Routes one client request: resolves its host through the client's DNS cache and the DNS records, and walks the
 * client's address order to the first UP load balancer. Then it picks an UP app server of that balancer's pool by
 * Maglev hashing, with bounded loads when the pool has a factor. Writes a {@link RoutedRequest}, or a JSON error
 * response to the client's reply partition when the request cannot be routed. Either way it stores the request's
 * {@link RoutingTrace} for {@code trace.retention.ms}, unless that is 0. All times are the wall clock of the
 * processor context, so that tests can drive it.
 */
final class RouteRequestProcessor implements Processor<String, ClientRequest, Object, Object> {

    static final String SERVED_BY = "routing";
    static final String RESOLVED_BY_CACHE = "cache";
    static final String RETRY_AFTER_SECONDS = "1";

    private final RoutingConfig config;
    private final LoadBalancing loadBalancing;
    private final Membership membership;
    private final RoutingMetrics metrics;
    private final LocalTraces localTraces;
    private ProcessorContext<Object, Object> context;
    private DnsAnswers answers;
    private ClientDnsCache cache;
    private RoutingTraces traces;
    /** The trace of the request being routed. */
    private RoutingTrace.Builder trace;

    RouteRequestProcessor(RoutingConfig config, LoadBalancing loadBalancing, RoutingMetrics metrics,
                          LocalTraces localTraces) {
        this.config = config;
        this.localTraces = localTraces;
        this.loadBalancing = loadBalancing;
        this.membership = loadBalancing.membership();
        this.metrics = metrics;
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        KeyValueStore<String, DnsRecord> records = context.getStateStore(RoutingTopology.DNS_RECORDS_STORE);
        KeyValueStore<String, CachedAnswer> cacheStore = context.getStateStore(RoutingTopology.CLIENT_DNS_CACHE_STORE);
        KeyValueStore<String, String> expiryIndex = context.getStateStore(RoutingTopology.CLIENT_DNS_CACHE_EXPIRY_STORE);
        answers = new DnsAnswers(new DnsResolver(records::get), config.dnsNegativeTtlMs());
        cache = new ClientDnsCache(cacheStore, expiryIndex, config.dnsCacheMaxEntriesPerClient());
        metrics.trackCacheSize(this, cache::approximateSize);
        traces = new RoutingTraces(context.getStateStore(RoutingTopology.ROUTING_TRACES_STORE), config.traceRetentionMs());
        // Kafka Streams initializes processors after it restored their stores, so the restored traces are there.
        traces.rebuildFilters();
        TraceCommitHook commitHook = context.getStateStore(RoutingTopology.TRACE_COMMIT_HOOK);
        commitHook.onCommit(traces::flush);
        localTraces.register(context.taskId().partition(), traces);
        metrics.trackTraceCount(this, traces::traceCount);
        if (config.traceRetentionMs() > 0) {
            // Traces live up to a tenth of the retention, plus one commit interval, longer than configured.
            context.schedule(Duration.ofMillis(config.traceRetentionMs() / 10), PunctuationType.WALL_CLOCK_TIME,
                    traces::purgeExpired);
        } else {
            // Traces are off: delete those that a run with traces on left in the store, future-dated ones included.
            traces.purgeExpired(Long.MAX_VALUE);
        }
        // Wall-clock time, because stream time stalls while no requests arrive.
        context.schedule(Duration.ofMillis(config.dnsCachePurgeIntervalMs()), PunctuationType.WALL_CLOCK_TIME,
                cache::purgeExpired);
        // Every task schedules this check; the first one due does the work, the others find nothing to expire.
        context.schedule(Duration.ofMillis(config.heartbeatCheckIntervalMs()), PunctuationType.WALL_CLOCK_TIME,
                membership::expire);
    }

    @Override
    public void close() {
        // Kafka Streams commits a task, stores included, before it closes it cleanly, so the hook has written the
        // pending traces.
        localTraces.unregister(context.taskId().partition(), traces);
        metrics.untrackCacheSize(this);
        metrics.untrackTraceCount(this);
    }

    @Override
    public void process(Record<String, ClientRequest> record) {
        if (record.value() == null) {
            deadLetter(record, new IllegalArgumentException("ClientRequest value is missing (null record value)"));
            return;
        }
        ClientRequest request = record.value();
        trace = new RoutingTrace.Builder(request.requestId(), request.clientId(), request.host());
        route(record, request, context.currentSystemTimeMs());
    }

    private void route(Record<String, ClientRequest> record, ClientRequest request, long nowMs) {
        String host;
        try {
            host = HostNames.canonical(request.host());
        } catch (IllegalArgumentException e) {
            metrics.lookup(LookupResult.ERROR);
            reply(record, request, 400, "invalid_host", e.getMessage(), Map.of("host", request.host()), false, nowMs);
            return;
        }
        trace.host(host);

        CachedAnswer answer = cache.get(request.clientId(), host, nowMs);
        String resolvedBy;
        if (answer != null) {
            metrics.lookup(LookupResult.CACHE);
            resolvedBy = RESOLVED_BY_CACHE;
            trace.resolvedBy(resolvedBy, true);
        } else {
            answer = resolve(record, request, host, nowMs);
            if (answer == null) {
                return;
            }
            resolvedBy = answer.level();
            trace.resolvedBy(answer.unknownHost() ? "nxdomain" : resolvedBy, false);
        }

        if (answer.unknownHost()) {
            reply(record, request, 404, "unknown_host", "no DNS record for host '" + host + "'", Map.of("host", host),
                    false, nowMs);
            return;
        }
        routeToLoadBalancer(record, request, host, answer.addresses(), resolvedBy, nowMs);
    }

    /**
     * Resolves the host against the DNS records and caches the answer unless its TTL is 0. Returns null after sending
     * the response to a resolution error, which is not cached.
     */
    private CachedAnswer resolve(Record<String, ClientRequest> record, ClientRequest request, String host, long nowMs) {
        var clientAnswer = metrics.timeResolution(
                () -> answers.answer(request.clientId(), host, request.region(), request.country(), nowMs));
        var resolution = clientAnswer.resolution();
        if (resolution instanceof DnsResolver.Failed failed) {
            metrics.lookup(LookupResult.ERROR);
            reply(record, request, 502, "dns_resolution_failed", "cannot resolve host '" + host + "': " + failed.message(),
                    Map.of("host", host, "reason", failed.reason()), false, nowMs);
            return null;
        }
        if (resolution instanceof DnsResolver.Resolved resolved) {
            metrics.lookup(LookupResult.valueOf(resolved.level().name()));
        } else {
            metrics.lookup(LookupResult.NXDOMAIN);
        }
        if (clientAnswer.cacheable()) {
            cache.put(request.clientId(), clientAnswer.answer());
        }
        return clientAnswer.answer();
    }

    private void routeToLoadBalancer(Record<String, ClientRequest> record, ClientRequest request, String host,
                                     List<String> addresses, String resolvedBy, long nowMs) {
        membership.expire(nowMs);
        var skipped = new ArrayList<String>();
        Heartbeat loadBalancer = null;
        for (String address : addresses) {
            loadBalancer = upLoadBalancer(address);
            if (loadBalancer != null) {
                break;
            }
            skipped.add(address);
        }
        trace.loadBalancer(skipped, loadBalancer == null ? null : loadBalancer.serverId(),
                loadBalancer == null ? null : loadBalancer.pool());
        if (loadBalancer == null) {
            reply(record, request, 503, "no_live_load_balancer", "no live load balancer for host '" + host + "'; tried "
                    + String.join(", ", skipped), Map.of("host", host), true, nowMs);
            return;
        }

        String pool = loadBalancer.pool();
        PoolSettings settings = config.poolSettings(pool);
        Map<String, Heartbeat> up = membership.upAppServers(pool).servers();
        String routingKey = settings.hashKey().keyOf(request);
        var choice = loadBalancing.balancer().choose(pool, up, routingKey, settings, loadBalancing.loads(pool), nowMs);
        if (choice == null) {
            reply(record, request, 503, "no_healthy_server", "no healthy app server in pool '" + pool
                    + "' behind load balancer '" + loadBalancer.serverId() + "'",
                    Map.of("host", host, "pool", pool, "load_balancer", loadBalancer.serverId()), true, nowMs);
            return;
        }
        if (choice.spilled()) {
            loadBalancing.spilled();
        }

        var routed = new RoutedRequest(RoutedRequest.SCHEMA_VERSION, request, resolvedBy, loadBalancer.serverId(),
                skipped, pool, choice.serverId(), routingKey, choice.spilled(), nowMs);
        var output = new RoutedOutput(routed, up.get(choice.serverId()).partitions());
        context.forward(new Record<>(routingKey, output, record.timestamp()), RoutingTopology.ROUTED_REQUESTS_SINK);
        metrics.routed();
        storeTrace(trace.routed(choice.serverId(), choice.spilled(), nowMs));
    }

    /** Returns the last heartbeat of the load balancer at an address when it is UP, else null. */
    private Heartbeat upLoadBalancer(String address) {
        Membership.Member member = membership.member(address);
        if (member == null || member.kind() != Heartbeat.Kind.LOAD_BALANCER || member.state() != MemberState.UP) {
            return null;
        }
        return member.lastHeartbeat();
    }

    private void reply(Record<String, ClientRequest> record, ClientRequest request, int status, String error,
                       String message, Map<String, String> fields, boolean retryLater, long nowMs) {
        ClientResponse response = ClientResponse.error(request.requestId(), status, error, message, fields, SERVED_BY, nowMs);
        if (retryLater) {
            var headers = new HashMap<>(response.headers());
            headers.put("retry-after", RETRY_AFTER_SECONDS);
            response = new ClientResponse(response.schemaVersion(), response.requestId(), status, headers,
                    response.body(), response.servedBy(), response.answeredAtMs());
        }
        var output = new ReplyOutput(response, request.replyPartition());
        context.forward(new Record<>(request.requestId(), output, record.timestamp()), RoutingTopology.RESPONSES_SINK);
        metrics.error(status);
        storeTrace(trace.rejected(status, error, nowMs));
    }

    private void storeTrace(RoutingTrace routingTrace) {
        if (routingTrace.requestId() != null && config.traceRetentionMs() > 0) {
            traces.put(routingTrace);
        }
    }

    private void deadLetter(Record<String, ClientRequest> record, Exception error) {
        var metadata = context.recordMetadata();
        String topic = metadata.map(RecordMetadata::topic).orElse(RoutingTopology.CLIENT_REQUESTS_SOURCE);
        byte[] key = record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8);
        var letter = DeadLetters.of(topic, metadata.map(RecordMetadata::partition).orElse(-1),
                metadata.map(RecordMetadata::offset).orElse(-1L), key, null, error, context.applicationId(),
                context.currentSystemTimeMs());
        context.forward(new Record<>(key, letter, record.timestamp(), DeadLetter.replayHeaders(record.headers())),
                RoutingTopology.DEAD_LETTERS_SINK);
        metrics.deadLetter(topic);
    }
}
