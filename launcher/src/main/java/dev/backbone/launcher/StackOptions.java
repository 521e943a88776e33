package dev.backbone.launcher;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * What the one-JVM stack starts with.
 *
 * @param httpPort       front-door port; 0 picks a free one
 * @param routingApiPort port of the routing layer's REST API (DNS admin and interactive queries); 0 picks a free one
 * @param adminToken     bearer token of the admin endpoints, at least 16 characters
 * @param appServers     how many app servers to run
 * @param products       products to seed
 * @param categories     categories to seed
 */
public record StackOptions(int httpPort, int routingApiPort, String adminToken, int appServers, int products, int categories) {

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
    }

    /** Returns options with free ports and a random admin token, for tests, the demo and benchmarks. */
    public static StackOptions ephemeral(int appServers, int products, int categories) {
        return new StackOptions(0, 0, randomToken(), appServers, products, categories);
    }

    /** Returns a random admin token: 32 hexadecimal characters from a SecureRandom. */
    public static String randomToken() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
