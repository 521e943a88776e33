package dev.backbone.cdn;

import dev.backbone.events.PassthroughProperties;
import dev.backbone.events.Settings;
import dev.backbone.events.TlsStore;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Configuration of one regional edge. {@link #toString()} masks the tokens and the store passwords.
 *
 * @param region           the region this edge serves ({@code region}, required), such as {@code eu-west}; it names the
 *                         consumer group {@code backbone-cdn-edge-<region>}, so run one edge per region
 * @param httpHost         address the HTTP server binds ({@code http.host}, default 127.0.0.1)
 * @param httpPort         HTTP port ({@code http.port}, default 8090; 0 picks a free port)
 * @param originUrl        base URL of the origin, the front door ({@code origin.url}, required), such as
 *                         {@code http://127.0.0.1:8080/}
 * @param originHost       Host header sent to the origin ({@code origin.host}, default empty: the client's Host)
 * @param edgeToken        shared secret sent to the origin as {@value EdgeHeaders#EDGE_TOKEN} ({@code edge.token},
 *                         default empty: not sent). The app server serves static bodies only to requests carrying it
 * @param bootstrapServers Kafka bootstrap servers for purges from {@code backbone.cdn-purges}
 *                         ({@code bootstrap.servers}, default empty: no Kafka, purges only through the admin endpoint)
 * @param adminToken       bearer token of {@code POST /admin/purge} ({@code admin.token}, default empty: endpoint off)
 * @param cacheMaxBytes    memory for cached responses, bodies and headers ({@code cache.max.bytes}, default 256 MiB);
 *                         the least recently used keys are evicted beyond it
 * @param maxObjectBytes   largest origin response body the edge accepts ({@code cache.max.object.bytes}, default
 *                         16 MiB); a larger one gets a 502 response
 * @param originTimeoutMs  how long one origin fetch may take ({@code origin.timeout.ms}, default 10000)
 * @param topicReplicationFactor replication factor of {@code backbone.cdn-purges} and {@code backbone.dead-letters} when
 *                         the edge creates them because they are missing ({@code topics.replication.factor}, default 1)
 * @param tls              the key store of HTTPS ({@code tls.keystore.path}, {@code tls.keystore.password},
 *                         {@code tls.keystore.type}), or null to serve plain HTTP (the default)
 * @param originTrustStore the certificates the edge trusts when {@code origin.url} is https
 *                         ({@code origin.truststore.path}, {@code origin.truststore.password},
 *                         {@code origin.truststore.type}), or null for the JDK's default trust store (the default)
 * @param kafkaClient      properties passed to every Kafka client of the edge: each {@code kafka.*} key, such as
 *                         {@code kafka.security.protocol}
 */
public record EdgeConfig(
        String region,
        String httpHost,
        int httpPort,
        URI originUrl,
        String originHost,
        String edgeToken,
        String bootstrapServers,
        String adminToken,
        long cacheMaxBytes,
        int maxObjectBytes,
        long originTimeoutMs,
        short topicReplicationFactor,
        TlsStore tls,
        TlsStore originTrustStore,
        PassthroughProperties kafkaClient) {

    /** The prefix of the keys that name the origin's trust store. */
    public static final String ORIGIN_TRUST_STORE_PREFIX = "origin.truststore";

    /** The service name in configuration errors and logs. */
    public static final String SERVICE_NAME = "cdn-edge";

    private static final Pattern REGION = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    /**
     * Reads and validates every key.
     *
     * @throws IllegalArgumentException listing every invalid key with its value and what is accepted
     */
    public static EdgeConfig from(Settings settings) {
        String region = settings.requiredString("region", "the region this edge serves, such as eu-west");
        String origin = settings.requiredString("origin.url", "the base URL of the front door, such as http://127.0.0.1:8080/");
        var config = new EdgeConfig(
                region,
                settings.string("http.host", "127.0.0.1"),
                settings.integer("http.port", 8090, 0, 65535),
                parseOrigin(origin, settings),
                optional(settings, "origin.host"),
                optional(settings, "edge.token"),
                optional(settings, "bootstrap.servers"),
                optional(settings, "admin.token"),
                settings.longValue("cache.max.bytes", 256L * 1024 * 1024, 1024 * 1024, Long.MAX_VALUE),
                settings.integer("cache.max.object.bytes", 16 * 1024 * 1024, 1024, Integer.MAX_VALUE - 8),
                settings.longValue("origin.timeout.ms", 10_000, 10, 600_000),
                (short) settings.integer("topics.replication.factor", 1, 1, Short.MAX_VALUE),
                TlsStore.read(settings, TlsStore.KEY_STORE_PREFIX, TlsStore.Purpose.KEY_STORE),
                TlsStore.read(settings, ORIGIN_TRUST_STORE_PREFIX, TlsStore.Purpose.TRUST_STORE),
                PassthroughProperties.kafka(settings));
        if (!region.isEmpty() && !REGION.matcher(region).matches()) {
            settings.addProblem("region=" + region + " is invalid; accepted: lower-case letters, digits and hyphens, "
                    + "such as eu-west");
        }
        settings.requireValid(SERVICE_NAME);
        return config;
    }

    /** Returns a configuration for tests and the launcher: every key not given at its default. */
    public static EdgeConfig of(Map<String, String> values) {
        return from(Settings.of(values));
    }

    private static String optional(Settings settings, String key) {
        String value = settings.raw(key);
        return value == null ? "" : value.trim();
    }

    private static URI parseOrigin(String origin, Settings settings) {
        if (origin.isEmpty()) {
            return URI.create("http://127.0.0.1/");
        }
        try {
            URI uri = new URI(origin.trim());
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                settings.addProblem("origin.url=" + origin + " is invalid; accepted: an http or https URL such as "
                        + "http://127.0.0.1:8080/");
                return URI.create("http://127.0.0.1/");
            }
            String path = uri.getPath() == null || uri.getPath().isEmpty() ? "/" : uri.getPath();
            return new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), path.endsWith("/") ? path : path + "/", null, null);
        } catch (URISyntaxException e) {
            settings.addProblem("origin.url=" + origin + " is not a URL (" + e.getReason() + "); accepted: an http or "
                    + "https URL such as http://127.0.0.1:8080/");
            return URI.create("http://127.0.0.1/");
        }
    }

    /** Returns the consumer group of this edge's purge consumer. */
    public String purgeGroupId() {
        return "backbone-cdn-edge-" + region;
    }

    /** Returns whether the edge serves HTTPS. */
    public boolean tlsEnabled() {
        return tls != null;
    }

    /** Returns whether purges are consumed from Kafka. */
    public boolean kafkaEnabled() {
        return !bootstrapServers.isEmpty();
    }

    @Override
    public String toString() {
        return "EdgeConfig[region=" + region + ", http=" + httpHost + ":" + httpPort + ", originUrl=" + originUrl
                + ", originHost=" + (originHost.isEmpty() ? "(client's Host)" : originHost)
                + ", edgeToken=" + (edgeToken.isEmpty() ? "(none)" : "(set)")
                + ", bootstrapServers=" + (bootstrapServers.isEmpty() ? "(none)" : bootstrapServers)
                + ", adminToken=" + (adminToken.isEmpty() ? "(none: admin endpoint off)" : "(set)")
                + ", cacheMaxBytes=" + cacheMaxBytes + ", maxObjectBytes=" + maxObjectBytes
                + ", originTimeoutMs=" + originTimeoutMs + ", topicReplicationFactor=" + topicReplicationFactor
                + ", tls=" + (tls == null ? "(off)" : tls)
                + ", originTrustStore=" + (originTrustStore == null ? "(JDK default)" : originTrustStore)
                + ", kafkaClient=" + kafkaClient + "]";
    }
}
