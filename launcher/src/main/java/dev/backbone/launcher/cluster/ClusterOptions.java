package dev.backbone.launcher.cluster;

import dev.backbone.launcher.StackOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Options of a multi-process {@link Cluster}.
 *
 * @param httpPort         front-door port; 0 picks a free one
 * @param routingInstances routing-streams JVMs; the first is the active load balancer, the others standbys
 * @param appServers       app-server JVMs
 * @param edgeRegions      one CDN edge JVM per region; may be empty
 * @param products         products to seed
 * @param categories       categories to seed
 * @param adminToken       bearer token of the admin endpoints, at least 16 characters
 * @param authSecret       HMAC secret the app servers verify bearer tokens with, at least 32 bytes
 * @param redisUri         Redis for the L2 cache tier, such as {@code redis://127.0.0.1:6379}; empty for none
 * @param workDir          directory for the properties files, logs and state of every service; {@code null} makes a
 *                         temporary one that {@link Cluster#close()} deletes
 * @param jvmOptions       options of every service JVM
 */
public record ClusterOptions(int httpPort, int routingInstances, int appServers, List<String> edgeRegions, int products,
                             int categories, String adminToken, String authSecret, String redisUri, Path workDir,
                             List<String> jvmOptions) {

    static final String REGION_RULE = "1 to 32 lower-case letters, digits or '-', such as eu-west";
    private static final Pattern REGION = Pattern.compile("[a-z0-9-]{1,32}");

    /** Small heaps, the serial collector and the client compiler: nine JVMs start quickly on two cores. */
    public static final List<String> DEFAULT_JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Xss512k");

    public ClusterOptions {
        if (routingInstances < 1 || appServers < 1) {
            throw new IllegalArgumentException("a cluster needs at least one routing instance and one app server, got "
                    + routingInstances + " and " + appServers);
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
        for (String region : edgeRegions) {
            if (region == null || !REGION.matcher(region).matches()) {
                throw new IllegalArgumentException("invalid edge region '" + region + "'; accepted: " + REGION_RULE
                        + ", or \"none\" alone for no edge");
            }
        }
        var seen = new java.util.HashSet<String>();
        for (String region : edgeRegions) {
            if (!seen.add(region)) {
                throw new IllegalArgumentException("edge region '" + region + "' is named twice in " + edgeRegions
                        + "; accepted: one edge per region");
            }
        }
        edgeRegions = List.copyOf(edgeRegions);
        redisUri = redisUri == null ? "" : redisUri.trim();
        jvmOptions = List.copyOf(jvmOptions);
    }

    /**
     * Returns the default shape: two routing instances, three app servers, edges in us-east and eu-west, free ports,
     * random secrets, no Redis and a temporary directory.
     */
    public static ClusterOptions defaults() {
        return new ClusterOptions(0, 2, 3, List.of("us-east", "eu-west"), 1_000, 20, StackOptions.randomToken(),
                StackOptions.randomToken() + StackOptions.randomToken(), "", null, DEFAULT_JVM_OPTIONS);
    }

    public ClusterOptions withHttpPort(int port) {
        return new ClusterOptions(port, routingInstances, appServers, edgeRegions, products, categories, adminToken,
                authSecret, redisUri, workDir, jvmOptions);
    }

    public ClusterOptions withShape(int routing, int servers, List<String> regions) {
        return new ClusterOptions(httpPort, routing, servers, regions, products, categories, adminToken, authSecret,
                redisUri, workDir, jvmOptions);
    }

    public ClusterOptions withRedis(String uri) {
        return new ClusterOptions(httpPort, routingInstances, appServers, edgeRegions, products, categories, adminToken,
                authSecret, uri, workDir, jvmOptions);
    }

    public ClusterOptions withWorkDir(Path dir) {
        return new ClusterOptions(httpPort, routingInstances, appServers, edgeRegions, products, categories, adminToken,
                authSecret, redisUri, dir, jvmOptions);
    }
}
