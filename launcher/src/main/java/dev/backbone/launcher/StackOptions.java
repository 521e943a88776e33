package dev.backbone.launcher;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Options of the one-JVM stack.
 *
 * @param httpPort       front-door port; 0 picks a free one
 * @param routingApiPort port of the routing layer's REST API (DNS admin and interactive queries); 0 picks a free one
 * @param adminToken     bearer token of the admin endpoints (routing API, edges), at least 16 characters
 * @param authSecret     HMAC secret the app servers verify bearer tokens with, at least 32 bytes as UTF-8
 * @param redisUri       Redis for the shared L2 cache, such as {@code redis://127.0.0.1:6379}; empty for no L2 tier
 * @param appServers     how many app servers to run
 * @param products       products to seed
 * @param categories     categories to seed
 * @param rateLimitPerSecond the front door's per-client rate limit in requests per second; 0 turns it off
 * @param rateLimitBurst requests a client may send at once; 0 takes the front door's default, the rate rounded up
 * @param tlsDirectory   where a new self-signed certificate for localhost and 127.0.0.1 is written, with which the
 *                       front door and the CDN edges serve HTTPS; null serves plain HTTP
 */
public record StackOptions(int httpPort, int routingApiPort, String adminToken, String authSecret, String redisUri,
                           int appServers, int products, int categories, double rateLimitPerSecond, int rateLimitBurst,
                           Path tlsDirectory) {

    public StackOptions {
        if (appServers < 1) {
            throw new IllegalArgumentException("appServers must be >= 1, got " + appServers);
        }
        if (products < 1 || categories < 1) {
            throw new IllegalArgumentException("products and categories must be >= 1, got " + products + " and " + categories);
        }
        if (adminToken == null || adminToken.length() < 16) {
            throw new IllegalArgumentException("the admin token must have at least 16 characters");
        }
        if (authSecret == null || authSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
            throw new IllegalArgumentException("the auth secret must have at least 32 bytes");
        }
        if (rateLimitPerSecond < 0 || rateLimitBurst < 0) {
            throw new IllegalArgumentException("the rate limit and its burst must be >= 0, got " + rateLimitPerSecond
                    + " and " + rateLimitBurst);
        }
        redisUri = redisUri == null ? "" : redisUri.trim();
    }

    /**
     * Returns options with free ports, random secrets, no Redis, no rate limit and plain HTTP, for tests, the demo and
     * benchmarks.
     */
    public static StackOptions ephemeral(int appServers, int products, int categories) {
        return new StackOptions(0, 0, randomToken(), randomToken() + randomToken(), "", appServers, products, categories,
                0, 0, null);
    }

    /** Returns a copy that uses Redis at {@code uri} for the L2 cache tier. */
    public StackOptions withRedis(String uri) {
        return new StackOptions(httpPort, routingApiPort, adminToken, authSecret, uri, appServers, products, categories,
                rateLimitPerSecond, rateLimitBurst, tlsDirectory);
    }

    /** Returns a copy whose front door limits each client to {@code perSecond} requests with bursts of {@code burst}. */
    public StackOptions withRateLimit(double perSecond, int burst) {
        return new StackOptions(httpPort, routingApiPort, adminToken, authSecret, redisUri, appServers, products,
                categories, perSecond, burst, tlsDirectory);
    }

    /** Returns a copy that serves HTTPS with a self-signed certificate written to {@code directory}. */
    public StackOptions withTls(Path directory) {
        return new StackOptions(httpPort, routingApiPort, adminToken, authSecret, redisUri, appServers, products,
                categories, rateLimitPerSecond, rateLimitBurst, directory);
    }

    public boolean tlsEnabled() {
        return tlsDirectory != null;
    }

    /** Returns a random token: 32 hexadecimal characters from a SecureRandom. */
    public static String randomToken() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
