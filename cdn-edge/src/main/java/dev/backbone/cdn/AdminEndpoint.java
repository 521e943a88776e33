package dev.backbone.cdn;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.backbone.events.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /admin/purge} with {@code Authorization: Bearer <admin.token>} and a JSON body:
 * {@code {"surrogateKey": "product:42", "soft": false}} purges one surrogate key, {@code {"all": true}} everything.
 * {@code soft} is optional and false by default. Responds 200 with {@code {"purged": <cache keys>, "kind": ...}},
 * 400 for an invalid body, 401 without the right token, 403 when {@code admin.token} is not set, 404 for other admin
 * paths and 405 for other methods. Stateless and thread-safe.
 */
final class AdminEndpoint {

    static final String PURGE_PATH = "/admin/purge";
    static final int MAX_BODY_BYTES = 64 * 1024;
    private static final int MAX_SURROGATE_KEY_LENGTH = 1_024;

    private static final Logger log = LoggerFactory.getLogger(AdminEndpoint.class);

    private final byte[] expectedAuthorization;
    private final Purger purger;

    AdminEndpoint(String adminToken, Purger purger) {
        this.expectedAuthorization = adminToken.isEmpty() ? null : ("Bearer " + adminToken).getBytes(StandardCharsets.UTF_8);
        this.purger = purger;
    }

    EdgeResponse handle(String method, String path, String authorization, byte[] body) {
        if (!path.equals(PURGE_PATH)) {
            return json(404, error("no admin endpoint at " + path + "; the edge serves POST " + PURGE_PATH));
        }
        if (!method.equals("POST")) {
            return new EdgeResponse(405, List.of(new Header("Allow", "POST"), new Header("Content-Type", "application/json")),
                    bytes(error(method + " is not allowed; use POST")), CacheResult.PASS);
        }

        if (expectedAuthorization == null) {
            return json(403, error("the admin endpoint is disabled; set admin.token to enable it"));
        }
        // Compared in constant time, so response timing reveals nothing about the token.
        if (authorization == null || !MessageDigest.isEqual(expectedAuthorization, authorization.trim().getBytes(StandardCharsets.UTF_8))) {
            return new EdgeResponse(401, List.of(new Header("WWW-Authenticate", "Bearer realm=\"backbone-cdn-edge\""),
                    new Header("Content-Type", "application/json")),
                    bytes(error("missing or invalid bearer token")), CacheResult.PASS);
        }

        JsonNode request;
        try {
            request = Json.mapper().readTree(body);
        } catch (java.io.IOException e) {
            return json(400, error("body is not valid JSON; expected {\"surrogateKey\": \"product:42\", \"soft\": false} or {\"all\": true}"));
        }
        if (request == null || !request.isObject()) {
            return json(400, error("body is not a JSON object; expected {\"surrogateKey\": \"product:42\", \"soft\": false} or {\"all\": true}"));
        }

        JsonNode soft = request.path("soft");
        if (!soft.isMissingNode() && !soft.isBoolean()) {
            return json(400, error("soft must be true or false"));
        }
        boolean isSoft = soft.asBoolean(false);
        if (request.path("all").asBoolean(false)) {
            int purged = purger.purge(Purger.ALL, isSoft, Purger.Source.ADMIN);
            return json(200, result(purged, "all", null, isSoft));
        }

        JsonNode key = request.path("surrogateKey");
        if (!key.isTextual() || key.asText().isBlank() || key.asText().length() > MAX_SURROGATE_KEY_LENGTH
                || key.asText().chars().anyMatch(Character::isWhitespace)) {
            return json(400, error("surrogateKey must be a non-blank string without spaces of at most "
                    + MAX_SURROGATE_KEY_LENGTH + " characters, such as product:42, or send {\"all\": true}"));
        }
        int purged = purger.purge(key.asText(), isSoft, Purger.Source.ADMIN);
        log.info("Admin purge of surrogate key {} ({}): {} cache keys", key.asText(), isSoft ? "soft" : "hard", purged);
        return json(200, result(purged, isSoft ? "soft" : "hard", key.asText(), isSoft));
    }

    private static ObjectNode result(int purged, String kind, String surrogateKey, boolean soft) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("purged", purged);
        node.put("kind", kind);
        node.put("soft", soft);
        if (surrogateKey != null) {
            node.put("surrogateKey", surrogateKey);
        }
        return node;
    }

    private static ObjectNode error(String message) {
        return Json.mapper().createObjectNode().put("error", message);
    }

    private static EdgeResponse json(int status, ObjectNode body) {
        return new EdgeResponse(status, List.of(new Header("Content-Type", "application/json"),
                new Header("Cache-Control", "no-store")), bytes(body), CacheResult.PASS);
    }

    private static byte[] bytes(ObjectNode node) {
        try {
            return Json.mapper().writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a JSON object", e);
        }
    }
}
