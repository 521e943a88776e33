package dev.backbone.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import javax.sql.DataSource;

/**
 * Reads and writes the {@code products} table. Thread-safe: every call borrows its own connection from the data
 * source, which the caller owns and closes.
 */
public final class ProductRepository {

    /** Maximum products on one category page. */
    public static final int MAX_PAGE_SIZE = 100;

    private static final String COLUMNS = "id, category_id, name, description, price_cents, stock, version, updated_at";

    private static final String FIND_BY_ID = "SELECT " + COLUMNS + " FROM products WHERE id = ?";

    private static final String FIND_VERSION = "SELECT version FROM products WHERE id = ?";

    // The BEFORE UPDATE trigger bumps version and sets updated_at; RETURNING shows the row after the trigger ran.
    // A null expected version matches any version.
    private static final String UPDATE = "UPDATE products SET name = COALESCE(?, name), description = COALESCE(?, description),"
            + " price_cents = COALESCE(?, price_cents), stock = COALESCE(?, stock)"
            + " WHERE id = ? AND (?::bigint IS NULL OR version = ?) RETURNING " + COLUMNS;

    private static final String INSERT = "INSERT INTO products (category_id, name, description, price_cents, stock)"
            + " VALUES (?, ?, ?, ?, ?) RETURNING " + COLUMNS;

    private static final String DELETE = "DELETE FROM products WHERE id = ? AND (?::bigint IS NULL OR version = ?)"
            + " RETURNING " + COLUMNS;

    private static final String FIND_CATEGORY = "SELECT id, name FROM categories WHERE id = ?";

    private static final String FIND_BY_CATEGORY = "SELECT " + COLUMNS + " FROM products WHERE category_id = ?"
            + " ORDER BY id LIMIT ? OFFSET ?";

    /** SQLSTATE of a foreign key violation. */
    private static final String FOREIGN_KEY_VIOLATION = "23503";

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
     * Returns one page of a category's products in id order, or empty when the category does not exist. A page past
     * the last product is empty.
     *
     * @param page the page number, from 1
     * @param size products per page, from 1 to {@link #MAX_PAGE_SIZE}
     * @throws IllegalArgumentException when {@code page} or {@code size} is out of range
     * @throws StorageException         when a query fails
     */
    public Optional<CategoryPage> findByCategory(long categoryId, int page, int size) {
        if (page < 1) {
            throw new IllegalArgumentException("page must be >= 1, got " + page);
        }
        if (size < 1 || size > MAX_PAGE_SIZE) {
            throw new IllegalArgumentException("size must be from 1 to " + MAX_PAGE_SIZE + ", got " + size);
        }
        try (Connection connection = dataSource.getConnection()) {
            Optional<Category> category = findCategory(connection, categoryId);
            if (category.isEmpty()) {
                return Optional.empty();
            }
            List<Product> products = new ArrayList<>(size + 1);
            try (PreparedStatement statement = connection.prepareStatement(FIND_BY_CATEGORY)) {
                statement.setLong(1, categoryId);
                // One row more than the page shows whether another page follows.
                statement.setInt(2, size + 1);
                statement.setLong(3, (long) (page - 1) * size);
                try (ResultSet rows = statement.executeQuery()) {
                    while (rows.next()) {
                        products.add(read(rows));
                    }
                }
            }
            boolean hasMore = products.size() > size;
            List<Product> onPage = hasMore ? products.subList(0, size) : products;
            return Optional.of(new CategoryPage(category.get(), page, size, onPage, hasMore));
        } catch (SQLException e) {
            throw new StorageException("cannot read page " + page + " of category " + categoryId, e);
        }
    }

    private static Optional<Category> findCategory(Connection connection, long categoryId) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(FIND_CATEGORY)) {
            statement.setLong(1, categoryId);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? Optional.of(new Category(rows.getLong("id"), rows.getString("name"))) : Optional.empty();
            }
        }
    }

    /**
     * Inserts a product with the next id of {@code products_id_seq} and version 1.
     *
     * @return the row as committed, or {@link WriteResult.Status#CATEGORY_NOT_FOUND}
     * @throws StorageException when the insert fails for another reason
     */
    public WriteResult<Product> insert(NewProduct product) {
        Objects.requireNonNull(product, "product");
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(INSERT)) {
            statement.setLong(1, product.categoryId());
            statement.setString(2, product.name());
            statement.setString(3, product.description());
            statement.setLong(4, product.priceCents());
            statement.setInt(5, product.stock());
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                return WriteResult.written(read(rows));
            }
        } catch (SQLException e) {
            if (FOREIGN_KEY_VIOLATION.equals(e.getSQLState())) {
                return WriteResult.categoryNotFound();
            }
            throw new StorageException("cannot insert a product into category " + product.categoryId(), e);
        }
    }

    /**
     * Applies an update in one transaction and returns the row as committed, with its new version, or empty when no
     * product has this id. Every update bumps the version, even one that changes no value.
     *
     * @throws StorageException when the update fails; the transaction is rolled back
     */
    public Optional<Product> update(long id, ProductUpdate update) {
        return Optional.ofNullable(update(id, update, OptionalLong.empty()).row());
    }

    /**
     * Applies an update in one transaction when the row's version is {@code expectedVersion}, or whatever it is when
     * {@code expectedVersion} is empty.
     *
     * @return the row as committed with its new version, {@link WriteResult.Status#NOT_FOUND}, or
     *         {@link WriteResult.Status#VERSION_MISMATCH} with the version the row has
     * @throws StorageException when the update fails; the transaction is rolled back
     */
    public WriteResult<Product> update(long id, ProductUpdate update, OptionalLong expectedVersion) {
        Objects.requireNonNull(update, "update");
        Objects.requireNonNull(expectedVersion, "expectedVersion");
        try (Connection connection = dataSource.getConnection()) {
            // Closing the connection resets auto-commit: HikariCP restores it before reusing a connection.
            connection.setAutoCommit(false);
            try {
                WriteResult<Product> result = executeUpdate(connection, id, update, expectedVersion);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                Transactions.rollbackQuietly(connection, e);
                throw e;
            }
        } catch (SQLException e) {
            throw new StorageException("cannot update product " + id, e);
        }
    }

    /**
     * Deletes a product in one transaction when its version is {@code expectedVersion}, or whatever it is when
     * {@code expectedVersion} is empty.
     *
     * @return the row as it was before the delete, {@link WriteResult.Status#NOT_FOUND}, or
     *         {@link WriteResult.Status#VERSION_MISMATCH} with the version the row has
     * @throws StorageException when the delete fails; the transaction is rolled back
     */
    public WriteResult<Product> delete(long id, OptionalLong expectedVersion) {
        Objects.requireNonNull(expectedVersion, "expectedVersion");
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                WriteResult<Product> result;
                try (PreparedStatement statement = connection.prepareStatement(DELETE)) {
                    statement.setLong(1, id);
                    setExpectedVersion(statement, 2, expectedVersion);
                    result = writtenOrWhyNot(connection, id, statement);
                }
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                Transactions.rollbackQuietly(connection, e);
                throw e;
            }
        } catch (SQLException e) {
            throw new StorageException("cannot delete product " + id, e);
        }
    }

    private static WriteResult<Product> executeUpdate(Connection connection, long id, ProductUpdate update,
                                                      OptionalLong expectedVersion) throws SQLException {
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
            setExpectedVersion(statement, 6, expectedVersion);
            return writtenOrWhyNot(connection, id, statement);
        }
    }

    /** Runs a conditional write; when it touched no row, looks up whether the row is missing or has another version. */
    private static WriteResult<Product> writtenOrWhyNot(Connection connection, long id, PreparedStatement write)
            throws SQLException {
        try (ResultSet rows = write.executeQuery()) {
            if (rows.next()) {
                return WriteResult.written(read(rows));
            }
        }
        try (PreparedStatement statement = connection.prepareStatement(FIND_VERSION)) {
            statement.setLong(1, id);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? WriteResult.versionMismatch(rows.getLong(1)) : WriteResult.notFound();
            }
        }
    }

    /** Sets the two placeholders of {@code (?::bigint IS NULL OR version = ?)} from {@code index} on. */
    private static void setExpectedVersion(PreparedStatement statement, int index, OptionalLong expectedVersion)
            throws SQLException {
        if (expectedVersion.isPresent()) {
            statement.setLong(index, expectedVersion.getAsLong());
            statement.setLong(index + 1, expectedVersion.getAsLong());
        } else {
            statement.setNull(index, Types.BIGINT);
            statement.setNull(index + 1, Types.BIGINT);
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
