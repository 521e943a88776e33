package dev.backbone.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/** Reads the {@code accounts} table. Thread-safe; the caller owns and closes the data source. */
public final class AccountRepository {

    private static final String COLUMNS = "id, email, display_name, verified, version, updated_at";
    private static final String FIND_BY_ID = "SELECT " + COLUMNS + " FROM accounts WHERE id = ?";
    private static final String FIND_VERIFIED_IDS = "SELECT id FROM accounts WHERE verified ORDER BY id LIMIT ?";

    private final DataSource dataSource;

    public AccountRepository(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Returns the account with this id, or empty when there is none.
     *
     * @throws StorageException when the query fails
     */
    public Optional<Account> findById(long id) {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(FIND_BY_ID)) {
            statement.setLong(1, id);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? Optional.of(read(rows)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new StorageException("cannot read account " + id, e);
        }
    }

    /**
     * Returns the ids of verified accounts in ascending order, at most {@code limit} of them.
     *
     * @throws StorageException when the query fails
     */
    public List<Long> findVerifiedIds(int limit) {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(FIND_VERIFIED_IDS)) {
            statement.setInt(1, limit);
            List<Long> ids = new ArrayList<>();
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    ids.add(rows.getLong(1));
                }
            }
            return ids;
        } catch (SQLException e) {
            throw new StorageException("cannot read the ids of verified accounts", e);
        }
    }

    private static Account read(ResultSet row) throws SQLException {
        return new Account(
                row.getLong("id"),
                row.getString("email"),
                row.getString("display_name"),
                row.getBoolean("verified"),
                row.getLong("version"),
                row.getObject("updated_at", OffsetDateTime.class).toInstant());
    }
}
