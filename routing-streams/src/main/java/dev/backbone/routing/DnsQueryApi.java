package dev.backbone.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.backbone.events.DnsRecord;
import dev.backbone.events.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resolve query of the REST API: how a name resolves for one client, with that client's DNS cache entry and the
 * level that would answer the client's next request. The resolution runs {@link DnsAnswers} over the global DNS
 * record store, the same code the route processor runs. The client DNS cache is partitioned by client id, so the query
 * runs on the instance whose task owns the client's partition: another instance forwards it there over HTTP, once.
 * While the partition's owner is unknown or its store is migrating, the response is 503 with {@code Retry-After}.
 * Thread-safe.
 */
final class DnsQueryApi {

    /** Marks a forwarded query with the instance that forwarded it, so that it is never forwarded again. */
    static final String FORWARDED_BY_HEADER = "X-Backbone-Forwarded-By";
    private static final Duration FORWARD_TIMEOUT = Duration.ofSeconds(5);
    private static final Logger log = LoggerFactory.getLogger(DnsQueryApi.class);

    private final KafkaStreams streams;
    private final HostInfo self;
    private final String selfName;
    private final long negativeTtlMs;
    private final Clock clock;
    private final HttpClient http;

    /** @param selfName this instance's {@code application.server}, {@code host:port} */
    DnsQueryApi(KafkaStreams streams, String selfName, long negativeTtlMs, Clock clock) {
        this.streams = streams;
        this.self = HostInfo.buildFromEndpoint(selfName);
        this.selfName = selfName;
        this.negativeTtlMs = negativeTtlMs;
        this.clock = clock;
        this.http = HttpClient.newBuilder().connectTimeout(FORWARD_TIMEOUT).build();
    }

    /**
     * Resolves {@code name} for {@code client} of {@code region} and {@code country} (both optional).
     *
     * @param forwardedBy the instance that forwarded this query, or null when a user sent it
     */
    ApiReply resolve(String name, String client, String region, String country, String forwardedBy) {
        String host;
        try {
            host = DnsRecordRules.canonicalName("name", name);
        } catch (InvalidFieldException e) {
            throw ApiException.invalidField(e);
        }
        if (client == null || client.isBlank()) {
            throw ApiException.invalidField(new InvalidFieldException("client", client, "is missing",
                    "the client id, as the front door reads it from the X-Client-Id header"));
        }
        String clientRegion = region == null ? "" : region.trim();
        String clientCountry = country == null ? "" : country.trim();

        KeyQueryMetadata owner = ownerOf(client);
        if (!owner.activeHost().equals(self)) {
            if (forwardedBy != null) {
                throw ApiException.unavailable("instance " + forwardedBy + " forwarded this query to " + selfName
                        + ", which does not own client '" + client + "' any more: partitions are moving; retry shortly");
            }
            return forward(owner.activeHost(), name, client, clientRegion, clientCountry);
        }

        long nowMs = clock.millis();
        CachedAnswer cached = cacheEntry(owner.partition(), client, host);
        DnsAnswers.ClientAnswer clientAnswer;
        try {
            var resolver = new DnsResolver(dnsRecords(streams)::get);
            clientAnswer = new DnsAnswers(resolver, negativeTtlMs).answer(client, host, clientRegion, clientCountry, nowMs);
        } catch (InvalidStateStoreException e) {
            throw ApiException.unavailable("the DNS record store is not available (" + e.getMessage() + "); retry shortly");
        }

        var answer = new LinkedHashMap<String, Object>();
        answer.put("name", host);
        answer.put("client", client);
        answer.put("region", clientRegion);
        answer.put("country", clientCountry);
        boolean cacheHit = cached != null && cached.isFresh(nowMs);
        answer.put("resolvedBy", cacheHit ? RouteRequestProcessor.RESOLVED_BY_CACHE : resultOf(clientAnswer.resolution()));
        answer.put("cache", cacheView(cached, nowMs));
        answer.put("resolution", resolutionView(clientAnswer));
        answer.put("answeredBy", selfName);
        answer.put("partition", owner.partition());
        answer.put("nowMs", nowMs);
        return ApiReply.json(answer);
    }

    private KeyQueryMetadata ownerOf(String client) {
        KeyQueryMetadata owner;
        try {
            owner = streams.queryMetadataForKey(RoutingTopology.CLIENT_DNS_CACHE_STORE, client, Serdes.String().serializer());
        } catch (IllegalStateException e) {
            // Thrown while Kafka Streams is not running; StreamsNotStartedException before it starts.
            throw ApiException.unavailable("routing streams are not running (" + e.getMessage() + "); retry shortly");
        }
        // During a rebalance Kafka Streams returns the NOT_AVAILABLE sentinel rather than null.
        if (owner == null || owner.equals(KeyQueryMetadata.NOT_AVAILABLE) || owner.activeHost().port() < 0) {
            throw ApiException.unavailable("the owner of client '" + client + "' is not known while partitions are "
                    + "assigned; retry shortly");
        }
        return owner;
    }

    private CachedAnswer cacheEntry(int partition, String client, String host) {
        try {
            ReadOnlyKeyValueStore<String, CachedAnswer> cache = streams.store(StoreQueryParameters
                    .fromNameAndType(RoutingTopology.CLIENT_DNS_CACHE_STORE, QueryableStoreTypes.<String, CachedAnswer>keyValueStore())
                    .withPartition(partition));
            return cache.get(ClientDnsCache.keyOf(client, host));
        } catch (InvalidStateStoreException e) {
            throw ApiException.unavailable("the client DNS cache of partition " + partition + " is not available on "
                    + selfName + " (" + e.getMessage() + "); retry shortly");
        }
    }

    /** Returns the global DNS record store for interactive queries. */
    static ReadOnlyKeyValueStore<String, DnsRecord> dnsRecords(KafkaStreams streams) {
        try {
            return streams.store(StoreQueryParameters.fromNameAndType(RoutingTopology.DNS_RECORDS_STORE,
                    QueryableStoreTypes.keyValueStore()));
        } catch (InvalidStateStoreException e) {
            throw ApiException.unavailable("the DNS record store is not available (" + e.getMessage()
                    + "); retry shortly");
        }
    }

    private ApiReply forward(HostInfo owner, String name, String client, String region, String country) {
        String host = owner.host().contains(":") ? "[" + owner.host() + "]" : owner.host();
        URI uri = URI.create("http://" + host + ":" + owner.port() + "/api/dns/resolve?name=" + encode(name)
                + "&client=" + encode(client) + "&region=" + encode(region) + "&country=" + encode(country));
        var request = HttpRequest.newBuilder(uri).timeout(FORWARD_TIMEOUT).header(FORWARDED_BY_HEADER, selfName).GET().build();
        HttpResponse<byte[]> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            log.warn("Cannot forward a resolve query for client {} to instance {}: {}", client, owner, e.toString());
            throw ApiException.unavailable("cannot reach instance " + owner.host() + ":" + owner.port()
                    + ", which owns client '" + client + "': " + e.getMessage() + "; retry shortly");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("interrupted while forwarding the query to " + owner.host() + ":" + owner.port());
        }
        if (response.statusCode() == 503) {
            // The forwarded reply carries no headers, so a 503 is raised again here to keep its Retry-After.
            throw ApiException.unavailable("instance " + owner.host() + ":" + owner.port() + ", which owns client '"
                    + client + "', is not ready: " + messageOf(response.body()));
        }
        return ApiReply.forwarded(response.statusCode(), withForwardedBy(response.body()));
    }

    private static String messageOf(byte[] body) {
        try {
            JsonNode json = Json.mapper().readTree(body);
            return json.hasNonNull("message") ? json.get("message").asText() : json.toString();
        } catch (IOException e) {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** Adds {@code forwardedBy} to a JSON object body, and returns any other body unchanged. */
    private byte[] withForwardedBy(byte[] body) {
        try {
            JsonNode json = Json.mapper().readTree(body);
            if (json instanceof ObjectNode object) {
                object.put("forwardedBy", selfName);
                return Json.mapper().writeValueAsBytes(object);
            }
        } catch (IOException e) {
            log.debug("Forwarded response is not JSON: {}", e.toString());
        }
        return body;
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static String resultOf(DnsResolver.Resolution resolution) {
        if (resolution instanceof DnsResolver.Resolved resolved) {
            return resolved.level().label();
        }
        return resolution instanceof DnsResolver.UnknownHost ? "nxdomain" : "error";
    }

    private static Map<String, Object> cacheView(CachedAnswer cached, long nowMs) {
        var view = new LinkedHashMap<String, Object>();
        view.put("present", cached != null);
        if (cached != null) {
            view.put("fresh", cached.isFresh(nowMs));
            view.put("expiresAtMs", cached.expiresAtMs());
            view.put("expiresInMs", Math.max(0, cached.expiresAtMs() - nowMs));
            view.put("unknownHost", cached.unknownHost());
            view.put("level", cached.level());
            view.put("addresses", cached.addresses());
        }
        return view;
    }

    private static Map<String, Object> resolutionView(DnsAnswers.ClientAnswer clientAnswer) {
        var view = new LinkedHashMap<String, Object>();
        var resolution = clientAnswer.resolution();
        view.put("result", resultOf(resolution));
        if (resolution instanceof DnsResolver.Resolved resolved) {
            DnsRecord record = resolved.addressRecord();
            view.put("level", resolved.level().label());
            view.put("addresses", clientAnswer.answer().addresses());
            view.put("chain", resolved.chain());
            view.put("record", Map.of("key", record.key(), "scope", record.scope(), "version", record.version()));
            view.put("ttlMs", clientAnswer.ttlMs());
        } else if (resolution instanceof DnsResolver.UnknownHost unknown) {
            view.put("missingName", unknown.missingName());
            view.put("ttlMs", clientAnswer.ttlMs());
        } else if (resolution instanceof DnsResolver.Failed failed) {
            view.put("reason", failed.reason());
            view.put("message", failed.message());
        }
        view.put("cacheable", clientAnswer.cacheable());
        return view;
    }
}
