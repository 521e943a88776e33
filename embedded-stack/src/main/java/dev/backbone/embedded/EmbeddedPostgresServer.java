package dev.backbone.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server started from the zonky binaries, on 127.0.0.1 with a free port, with logical decoding enabled
 * for Debezium. It creates the database {@value #DATABASE}; the user is {@value #USER} with no password.
 * The data directory is temporary and deleted by {@link #close()}.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

    public static final String DATABASE = "backbone";
    public static final String USER = "postgres";

    private final EmbeddedPostgres postgres;
    private final Path dataDir;
    private boolean closed;

    private EmbeddedPostgresServer(EmbeddedPostgres postgres, Path dataDir) {
        this.postgres = postgres;
        this.dataDir = dataDir;
    }

    /**
     * Starts the server and creates the {@value #DATABASE} database.
     *
     * @throws IllegalStateException when PostgreSQL cannot start
     */
    public static EmbeddedPostgresServer start() {
        long startedAt = System.nanoTime();
        try {
            Path dataDir = Files.createTempDirectory("backbone-postgres-");
            EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                    .setPort(FreePorts.next())
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(true)
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("wal_level", "logical")
                    .setServerConfig("max_wal_senders", "10")
                    .setServerConfig("max_replication_slots", "10")
                    // zonky turns synchronous_commit off; logical decoding then sees commits about a second late.
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("max_connections", "200")
                    .start();
            var server = new EmbeddedPostgresServer(postgres, dataDir);
            server.createDatabase();
            log.info("Embedded PostgreSQL ready at {} in {} ms", server.jdbcUrl(), (System.nanoTime() - startedAt) / 1_000_000);
            return server;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start embedded PostgreSQL: " + e.getMessage(), e);
        }
    }

    private void createDatabase() {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + DATABASE);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + DATABASE + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return postgres.getPort();
    }

    /** Returns {@code jdbc:postgresql://127.0.0.1:PORT/backbone?user=postgres}. */
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + DATABASE + "?user=" + USER;
    }

    /** Returns a connection URI for psql: {@code postgresql://postgres@127.0.0.1:PORT/backbone}. */
    public String psqlUri() {
        return "postgresql://" + USER + "@127.0.0.1:" + port() + "/" + DATABASE;
    }

    /** Returns an unpooled data source for the {@value #DATABASE} database. */
    public DataSource dataSource() {
        var source = new PGSimpleDataSource();
        source.setServerNames(new String[] {"127.0.0.1"});
        source.setPortNumbers(new int[] {port()});
        source.setDatabaseName(DATABASE);
        source.setUser(USER);
        return source;
    }

    /** Stops PostgreSQL and deletes its data directory. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stop embedded PostgreSQL on port " + port(), e);
        } finally {
            TempDirs.deleteRecursively(dataDir);
        }
        log.info("Embedded PostgreSQL on port {} stopped", port());
    }
}
