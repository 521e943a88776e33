package dev.backbone.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Reads and writes the {@code products} table. Thread-safe: every call borrows its own connection from the data
 * source, which the caller owns and closes.
 */
public final class ProductRepository {

    private static final String COLUMNS = "id, category_id, name, description, price_cents, stock, version, updated_at";

    private static final String FIND_BY_ID = "SELECT " + COLUMNS + " FROM products WHERE id = ?";

    // The BEFORE UPDATE trigger bumps version and sets updated_at; RETURNING shows the row after the trigger ran.
    private static final String UPDATE = "UPDATE products SET name = COALESCE(?, name), description = COALESCE(?, description),"
            + " price_cents = COALESCE(?, price_cents), stock = COALESCE(?, stock)"
            + " WHERE id = ? RETURNING " + COLUMNS;

    private final DataSource dataSource;

    public ProductRepository(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Returns the product with this id, or empty when there is none.
     *
     * @throws StorageException when the query fails; {@link StorageException#retriable()} tells whether a retry may succeed
     */
    public Optional<Product> findById(long id) {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(FIND_BY_ID)) {
            statement.setLong(1, id);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? Optional.of(read(rows)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new StorageException("cannot read product " + id, e);
        }
    }

    /**
     * Applies an update in one transaction and returns the row as committed, with its new version, or empty when no
     * product has this id. Every update bumps the version, even one that changes no value.
     *
     * @throws StorageException when the update fails; the transaction is rolled back
     */
    public Optional<Product> update(long id, ProductUpdate update) {
        Objects.requireNonNull(update, "update");
        try (Connection connection = dataSource.getConnection()) {
            // Closing the connection resets auto-commit: HikariCP restores it before reusing a connection.
            connection.setAutoCommit(false);
            try {
                Optional<Product> updated = executeUpdate(connection, id, update);
                connection.commit();
                return updated;
            } catch (SQLException | RuntimeException e) {
                Transactions.rollbackQuietly(connection, e);
                throw e;
            }
        } catch (SQLException e) {
            throw new StorageException("cannot update product " + id, e);
        }
    }

    private static Optional<Product> executeUpdate(Connection connection, long id, ProductUpdate update) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(UPDATE)) {
            statement.setString(1, update.name());
            statement.setString(2, update.description());
            setNullableLong(statement, 3, update.priceCents());
            if (update.stock() == null) {
                statement.setNull(4, Types.INTEGER);
            } else {
                statement.setInt(4, update.stock());
            }
            statement.setLong(5, id);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? Optional.of(read(rows)) : Optional.empty();
            }
        }
    }

    private static void setNullableLong(PreparedStatement statement, int index, Long value) throws SQLException {
        if (value == null) {
            statement.setNull(index, Types.BIGINT);
        } else {
            statement.setLong(index, value);
        }
    }

    private static Product read(ResultSet row) throws SQLException {
        return new Product(
                row.getLong("id"),
                row.getLong("category_id"),
                row.getString("name"),
                row.getString("description"),
                row.getLong("price_cents"),
                row.getInt("stock"),
                row.getLong("version"),
                row.getObject("updated_at", java.time.OffsetDateTime.class).toInstant());
    }
}
