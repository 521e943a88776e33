package dev.backbone.routing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The other instances of this routing application, as Kafka Streams lists them by their {@code application.server},
 * and the HTTP calls that queries fanning out to all instances send them. Thread-safe.
 */
final class InstancePeers {

    /** Query parameter that limits a query to the instance's own state, so that a fanned-out query stops there. */
    static final String LOCAL_PARAMETER = "local";
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final Logger log = LoggerFactory.getLogger(InstancePeers.class);

    private final KafkaStreams streams;
    private final String selfName;
    private final HostInfo self;
    private final HttpClient http;

    /** @param selfName this instance's {@code application.server}, {@code host:port} */
    InstancePeers(KafkaStreams streams, String selfName) {
        this.streams = streams;
        this.selfName = selfName;
        this.self = HostInfo.buildFromEndpoint(selfName);
        this.http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    }

    String selfName() {
        return selfName;
    }

    /**
     * Returns the {@code host:port} of every other instance in the consumer group, sorted.
     *
     * @throws ApiException 503 while Kafka Streams is not running or rebalancing
     */
    List<String> others() {
        var others = new TreeSet<String>();
        try {
            for (StreamsMetadata metadata : streams.metadataForAllStreamsClients()) {
                HostInfo host = metadata.hostInfo();
                if (host.port() >= 0 && !host.equals(self)) {
                    others.add(endpoint(host));
                }
            }
        } catch (IllegalStateException e) {
            // StreamsNotStartedException, a subclass, before Kafka Streams starts.
            throw ApiException.unavailable("routing streams are not running (" + e.getMessage() + "); retry shortly");
        }
        return new ArrayList<>(others);
    }

    /**
     * Sends {@code GET pathAndQuery} to another instance and returns its JSON body, or null when it returns 404.
     *
     * @throws ApiException 503 when the instance cannot be reached or returns a status other than 200 and 404,
     *                      because a query that fans out cannot return a complete result without it
     */
    JsonNode get(String instance, String pathAndQuery) {
        URI uri = URI.create("http://" + instance + pathAndQuery);
        var request = HttpRequest.newBuilder(uri).timeout(TIMEOUT).header(DnsQueryApi.FORWARDED_BY_HEADER, selfName)
                .GET().build();
        HttpResponse<byte[]> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            log.warn("Cannot query instance {} for {}: {}", instance, pathAndQuery, e.toString());
            throw ApiException.unavailable("cannot reach instance " + instance + ": " + e.getMessage()
                    + "; it may be leaving the group, retry shortly");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("interrupted while querying instance " + instance);
        }
        JsonNode body;
        try {
            body = Json.mapper().readTree(response.body());
        } catch (IOException e) {
            throw ApiException.unavailable("instance " + instance + " returned a body that is not JSON (status "
                    + response.statusCode() + "); retry shortly");
        }
        if (response.statusCode() == 404) {
            return null;
        }
        if (response.statusCode() != 200) {
            String message = body.hasNonNull("message") ? body.get("message").asText() : body.toString();
            throw ApiException.unavailable("instance " + instance + " returned " + response.statusCode() + ": "
                    + message + "; retry shortly");
        }
        return body;
    }

    /**
     * Parses the {@code local} query parameter.
     *
     * @return true for "true"; false for null or "false"
     * @throws ApiException 400 for any other value
     */
    static boolean parseLocal(String local) {
        if (local == null || local.equals("false")) {
            return false;
        }
        if (local.equals("true")) {
            return true;
        }
        throw ApiException.invalidField(new InvalidFieldException(LOCAL_PARAMETER, local, "is invalid",
                "true to answer from this instance's state only, or false (the default) to ask every instance"));
    }

    /** Returns {@code host:port}, with an IPv6 host in brackets. */
    static String endpoint(HostInfo host) {
        String name = host.host().contains(":") ? "[" + host.host() + "]" : host.host();
        return name + ":" + host.port();
    }
}
