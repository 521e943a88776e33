package dev.backbone.launcher;

import dev.backbone.embedded.EmbeddedPostgresServer;
import dev.backbone.embedded.EmbeddedStack;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The Kafka cluster and PostgreSQL server that {@link LocalStack#startOn} and
 * {@link dev.backbone.launcher.cluster.Cluster#startOn} run the services against, instead of the in-process ones.
 * PostgreSQL needs {@code wal_level=logical}, and its user the REPLICATION attribute, because the cache invalidator
 * captures changes with Debezium. {@link #toString()} leaves the password out.
 *
 * @param bootstrapServers       Kafka bootstrap servers, such as {@code 127.0.0.1:9092}
 * @param topicReplicationFactor replication factor of the topics the stack creates, at most the number of brokers
 * @param databaseHost           PostgreSQL host
 * @param databasePort           PostgreSQL port
 * @param databaseName           the database the schema is migrated into
 * @param databaseUser           PostgreSQL user
 * @param databasePassword       its password, or empty for none
 */
public record ExternalServices(String bootstrapServers, short topicReplicationFactor, String databaseHost,
                               int databasePort, String databaseName, String databaseUser, String databasePassword) {

    public ExternalServices {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(databaseHost, "databaseHost");
        Objects.requireNonNull(databaseName, "databaseName");
        Objects.requireNonNull(databaseUser, "databaseUser");
        databasePassword = databasePassword == null ? "" : databasePassword;
        if (topicReplicationFactor < 1) {
            throw new IllegalArgumentException("topicReplicationFactor must be >= 1, got " + topicReplicationFactor);
        }
        if (databasePort < 1 || databasePort > 65_535) {
            throw new IllegalArgumentException("databasePort must be from 1 to 65535, got " + databasePort);
        }
    }

    /**
     * Returns the addresses of an in-process broker and PostgreSQL server in this form, so that the code that starts
     * the services treats both alike: replication factor 1, no password.
     */
    public static ExternalServices of(EmbeddedStack embedded) {
        return new ExternalServices(embedded.bootstrapServers(), (short) 1, "127.0.0.1", embedded.postgres().port(),
                EmbeddedPostgresServer.DATABASE, EmbeddedPostgresServer.USER, "");
    }

    /** Returns {@code jdbc:postgresql://HOST:PORT/DATABASE?user=USER}, with {@code &password=} when there is one. */
    public String jdbcUrl() {
        String url = "jdbc:postgresql://" + hostAndPort() + "/" + databaseName + "?user=" + encoded(databaseUser);
        return databasePassword.isEmpty() ? url : url + "&password=" + encoded(databasePassword);
    }

    /** Returns a connection URI for psql, without the password: {@code postgresql://USER@HOST:PORT/DATABASE}. */
    public String psqlUri() {
        return "postgresql://" + encoded(databaseUser) + "@" + hostAndPort() + "/" + databaseName;
    }

    private String hostAndPort() {
        String host = databaseHost.contains(":") && !databaseHost.startsWith("[") ? "[" + databaseHost + "]" : databaseHost;
        return host + ":" + databasePort;
    }

    private static String encoded(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "ExternalServices[bootstrapServers=" + bootstrapServers + ", topicReplicationFactor=" + topicReplicationFactor
                + ", database=" + databaseUser + "@" + hostAndPort() + "/" + databaseName
                + ", databasePassword=" + (databasePassword.isEmpty() ? "(empty)" : "(set)") + "]";
    }
}
