package dev.backbone.launcher;

import dev.backbone.events.DnsRecord;
import dev.backbone.events.Settings;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Configuration of {@link ClusterSetup}, the one-shot preparation of a distributed deployment.
 *
 * @param bootstrapServers       Kafka bootstrap servers ({@code bootstrap.servers}, required)
 * @param topicReplicationFactor replication factor of the topics it creates ({@code topics.replication.factor},
 *                               default 1)
 * @param jdbcUrl                the PostgreSQL JDBC URL with credentials ({@code jdbc.url}, required)
 * @param categories             categories to seed ({@code seed.categories}, default {@value #DEFAULT_CATEGORIES})
 * @param products               products to seed ({@code seed.products}, default {@value #DEFAULT_PRODUCTS})
 * @param site                   the host name whose global DNS record is written when it has none ({@code dns.site},
 *                               default {@value LocalStack#SITE})
 * @param siteAddresses          the load-balancer addresses of that record ({@code dns.addresses}, comma-separated,
 *                               default {@code lb-1,lb-2})
 * @param siteTtlSeconds         the TTL of that record ({@code dns.ttl.s}, default {@value #DEFAULT_TTL_SECONDS})
 */
public record ClusterSetupConfig(
        String bootstrapServers,
        short topicReplicationFactor,
        String jdbcUrl,
        int categories,
        int products,
        String site,
        List<String> siteAddresses,
        long siteTtlSeconds) {

    public static final String SERVICE_NAME = "cluster-setup";
    public static final int DEFAULT_CATEGORIES = 100;
    public static final int DEFAULT_PRODUCTS = 10_000;
    public static final long DEFAULT_TTL_SECONDS = 60;

    private static final Pattern SITE_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");

    public ClusterSetupConfig {
        siteAddresses = List.copyOf(siteAddresses);
    }

    /**
     * Reads and validates every key.
     *
     * @throws IllegalArgumentException listing every invalid key with its value and what is accepted
     */
    public static ClusterSetupConfig from(Settings settings) {
        var config = new ClusterSetupConfig(
                settings.requiredString("bootstrap.servers", "the Kafka bootstrap servers, such as kafka-1:9092"),
                (short) settings.integer("topics.replication.factor", 1, 1, Short.MAX_VALUE),
                settings.requiredString("jdbc.url",
                        "a PostgreSQL JDBC URL, such as jdbc:postgresql://postgres:5432/backbone?user=postgres"),
                settings.integer("seed.categories", DEFAULT_CATEGORIES, 1, 1_000_000),
                settings.integer("seed.products", DEFAULT_PRODUCTS, 0, 10_000_000),
                settings.string("dns.site", LocalStack.SITE),
                settings.list("dns.addresses", LocalStack.LOAD_BALANCERS),
                settings.longValue("dns.ttl.s", DEFAULT_TTL_SECONDS, 0, 604_800));
        if (!config.jdbcUrl().isEmpty() && !config.jdbcUrl().startsWith("jdbc:postgresql:")) {
            settings.addProblem("jdbc.url is not a PostgreSQL JDBC URL; accepted: jdbc:postgresql://HOST:PORT/DATABASE");
        }
        if (!SITE_NAME.matcher(config.site()).matches()) {
            settings.addProblem("dns.site=" + config.site() + " is invalid; accepted: a lower-case host name in punycode, "
                    + "such as shop.example.com");
        }
        if (config.siteAddresses().isEmpty()) {
            settings.addProblem("dns.addresses is empty; set a comma-separated list of load-balancer addresses, such as lb-1,lb-2");
        }
        settings.requireValid(SERVICE_NAME);
        return config;
    }

    /** Returns the global A record of {@link #site()}, with version 1. */
    public DnsRecord siteRecord() {
        return new DnsRecord(DnsRecord.SCHEMA_VERSION, site, DnsRecord.GLOBAL, DnsRecord.Type.A, siteAddresses, null,
                siteTtlSeconds, 1);
    }

    @Override
    public String toString() {
        String url = jdbcUrl.contains("?") ? jdbcUrl.substring(0, jdbcUrl.indexOf('?')) + "?..." : jdbcUrl;
        return "ClusterSetupConfig[bootstrapServers=" + bootstrapServers + ", topicReplicationFactor="
                + topicReplicationFactor + ", jdbcUrl=" + url + ", categories=" + categories + ", products=" + products
                + ", site=" + site + ", siteAddresses=" + siteAddresses + ", siteTtlSeconds=" + siteTtlSeconds + "]";
    }
}
