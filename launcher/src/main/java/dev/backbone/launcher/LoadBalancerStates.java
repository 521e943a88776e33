package dev.backbone.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the app servers' states in the load balancer ({@code UP}, {@code JOINING}, {@code DRAINING},
 * {@code DOWN}) from the routing layer's {@code GET /api/lb/pools/{pool}}. Used by one thread at a time.
 */
final class LoadBalancerStates {

    private static final Logger log = LoggerFactory.getLogger(LoadBalancerStates.class);
    private static final Duration TIMEOUT = Duration.ofMillis(500);

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    private final URI poolUri;
    private boolean failing;

    LoadBalancerStates(URI routingApi, String pool) {
        this.poolUri = routingApi.resolve("/api/lb/pools/" + URLEncoder.encode(pool, StandardCharsets.UTF_8));
    }

    /** Returns the state of each app server of the pool by server id, or an empty map when the query fails. */
    Map<String, String> read() {
        var states = new TreeMap<String, String>();
        try {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(poolUri).timeout(TIMEOUT).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IOException("status " + response.statusCode() + ": " + response.body());
            }
            for (JsonNode member : Json.mapper().readTree(response.body()).path("members")) {
                if ("APP_SERVER".equals(member.path("kind").asText())) {
                    states.put(member.path("serverId").asText(), member.path("state").asText("UNKNOWN"));
                }
            }
            if (failing) {
                log.info("Reading app server states from {} works again", poolUri);
                failing = false;
            }
        } catch (IOException e) {
            logFailure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return states;
    }

    /** Warns on the first failure of a series, then logs at DEBUG, so a stopped routing layer logs one line. */
    private void logFailure(Exception e) {
        if (failing) {
            log.debug("Cannot read app server states from {}: {}", poolUri, e.toString());
            return;
        }
        failing = true;
        log.warn("Cannot read app server states from {}: {}; the dashboard shows them as UNKNOWN until this works",
                poolUri, e.toString());
    }
}
