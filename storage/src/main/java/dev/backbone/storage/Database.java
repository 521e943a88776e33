package dev.backbone.storage;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.util.Objects;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Connection pools and schema migrations for the Backbone PostgreSQL database. */
public final class Database {

    private static final Logger log = LoggerFactory.getLogger(Database.class);

    /** Classpath folder of the Flyway migrations, {@code V1__catalogue.sql} and later. */
    public static final String MIGRATIONS = "classpath:db/migration";

    private Database() {
    }

    /**
     * Opens a HikariCP pool and one connection to check that the database is reachable. The caller closes the pool.
     *
     * @param jdbcUrl     a PostgreSQL JDBC URL, such as {@code jdbc:postgresql://127.0.0.1:5432/backbone?user=postgres}
     * @param maxPoolSize the maximum number of connections, at least 1
     * @throws com.zaxxer.hikari.pool.HikariPool.PoolInitializationException when the database cannot be reached;
     *         check the URL, the credentials and that PostgreSQL is running
     */
    public static HikariDataSource pool(String jdbcUrl, int maxPoolSize) {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        if (maxPoolSize < 1) {
            throw new IllegalArgumentException("maxPoolSize must be >= 1, got " + maxPoolSize);
        }
        var config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        config.setMaximumPoolSize(maxPoolSize);
        config.setMinimumIdle(Math.min(2, maxPoolSize));
        config.setPoolName("backbone-db");
        config.setConnectionTimeout(10_000);
        return new HikariDataSource(config);
    }

    /**
     * Applies every pending migration under {@link #MIGRATIONS}. Safe to call on an up-to-date schema.
     *
     * @throws org.flywaydb.core.api.FlywayException when a migration fails or an applied one was changed
     */
    public static void migrate(DataSource dataSource) {
        MigrateResult result = Flyway.configure()
                .dataSource(dataSource)
                .locations(MIGRATIONS)
                .failOnMissingLocations(true)
                .load()
                .migrate();
        String version = result.targetSchemaVersion != null ? result.targetSchemaVersion : result.initialSchemaVersion;
        log.info("Database schema at version {} ({} migrations applied now)", version, result.migrationsExecuted);
    }
}
