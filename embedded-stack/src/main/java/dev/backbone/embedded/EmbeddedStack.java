package dev.backbone.embedded;

/**
 * An in-process Kafka broker and PostgreSQL server with every Backbone topic created.
 * {@link #close()} stops both and deletes their temporary directories.
 */
public final class EmbeddedStack implements AutoCloseable {

    private final EmbeddedKafka kafka;
    private final EmbeddedPostgresServer postgres;

    private EmbeddedStack(EmbeddedKafka kafka, EmbeddedPostgresServer postgres) {
        this.kafka = kafka;
        this.postgres = postgres;
    }

    /** Starts PostgreSQL and Kafka, then creates the Backbone topics. */
    public static EmbeddedStack start() {
        EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start();
        try {
            EmbeddedKafka kafka = EmbeddedKafka.start();
            kafka.createBackboneTopics();
            return new EmbeddedStack(kafka, postgres);
        } catch (RuntimeException e) {
            postgres.close();
            throw e;
        }
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    public EmbeddedPostgresServer postgres() {
        return postgres;
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** Stops Kafka, then PostgreSQL. Idempotent. */
    @Override
    public void close() {
        try {
            kafka.close();
        } finally {
            postgres.close();
        }
    }
}
