package dev.backbone.storage;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/** Reads and writes the {@code static_assets} table. Thread-safe; the caller owns and closes the data source. */
public final class StaticAssetRepository {

    private static final String COLUMNS = "path, content_type, body, generated_bytes, surrogate_keys, requires_auth,"
            + " version, updated_at";
    private static final String FIND_BY_PATH = "SELECT " + COLUMNS + " FROM static_assets WHERE path = ?";

    // An unchanged row is not updated, so its version stays and seeding twice changes nothing.
    private static final String UPSERT = "INSERT INTO static_assets (path, content_type, body, generated_bytes,"
            + " surrogate_keys, requires_auth) VALUES (?, ?, ?, ?, ?, ?)"
            + " ON CONFLICT (path) DO UPDATE SET content_type = excluded.content_type, body = excluded.body,"
            + " generated_bytes = excluded.generated_bytes, surrogate_keys = excluded.surrogate_keys,"
            + " requires_auth = excluded.requires_auth"
            + " WHERE (static_assets.content_type, static_assets.body, static_assets.generated_bytes,"
            + " static_assets.surrogate_keys, static_assets.requires_auth)"
            + " IS DISTINCT FROM (excluded.content_type, excluded.body, excluded.generated_bytes,"
            + " excluded.surrogate_keys, excluded.requires_auth)";

    /**
     * The content of an asset to write: either {@code body} or {@code generatedBytes} is set.
     *
     * @param path           see {@link StaticAsset#PATH_ACCEPTED}
     * @param contentType    see {@link StaticAsset#CONTENT_TYPES_ACCEPTED}
     * @param body           UTF-8 text, or {@code null} for a generated body
     * @param generatedBytes the length of the generated body, or {@code null} when {@code body} is set
     * @param surrogateKeys  CDN surrogate keys besides {@code asset:<path>}
     * @param requiresAuth   whether a client needs a valid bearer token to be redirected to the asset
     */
    public record AssetContent(String path, String contentType, String body, Integer generatedBytes,
                               List<String> surrogateKeys, boolean requiresAuth) {

        /** @throws IllegalArgumentException naming the invalid field, its value and what is accepted */
        public AssetContent {
            if (!StaticAsset.isValidPath(path)) {
                throw new IllegalArgumentException("path=" + path + " is invalid; accepted: " + StaticAsset.PATH_ACCEPTED);
            }
            if (!StaticAsset.isTextContentType(contentType)) {
                throw new IllegalArgumentException("contentType=" + contentType + " is not accepted, because bodies"
                        + " travel as UTF-8 text in response events; accepted: " + StaticAsset.CONTENT_TYPES_ACCEPTED);
            }
            if ((body == null) == (generatedBytes == null)) {
                throw new IllegalArgumentException("set exactly one of body and generatedBytes for asset " + path);
            }
            surrogateKeys = List.copyOf(surrogateKeys);
        }
    }

    private final DataSource dataSource;

    public StaticAssetRepository(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Returns the asset at this path, or empty when there is none.
     *
     * @throws StorageException      when the query fails
     * @throws IllegalStateException when the stored body is not UTF-8, which only a write around this class can cause
     */
    public Optional<StaticAsset> findByPath(String path) {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(FIND_BY_PATH)) {
            statement.setString(1, path);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? Optional.of(read(rows)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new StorageException("cannot read static asset " + path, e);
        }
    }

    /**
     * Inserts an asset, or updates the one at its path when any column differs.
     *
     * @return {@code true} when a row was inserted or changed
     * @throws StorageException when the write fails
     */
    public boolean upsert(AssetContent asset) {
        try (Connection connection = dataSource.getConnection()) {
            return upsert(connection, asset);
        } catch (SQLException e) {
            throw new StorageException("cannot write static asset " + asset.path(), e);
        }
    }

    /** Writes on the caller's connection, inside the caller's transaction. */
    static boolean upsert(Connection connection, AssetContent asset) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(UPSERT)) {
            statement.setString(1, asset.path());
            statement.setString(2, asset.contentType());
            if (asset.body() == null) {
                statement.setNull(3, Types.BINARY);
                statement.setInt(4, asset.generatedBytes());
            } else {
                statement.setBytes(3, asset.body().getBytes(StandardCharsets.UTF_8));
                statement.setNull(4, Types.INTEGER);
            }
            statement.setArray(5, connection.createArrayOf("text", asset.surrogateKeys().toArray()));
            statement.setBoolean(6, asset.requiresAuth());
            return statement.executeUpdate() > 0;
        }
    }

    private static StaticAsset read(ResultSet row) throws SQLException {
        String path = row.getString("path");
        String contentType = row.getString("content_type");
        byte[] bytes = row.getBytes("body");
        String body = bytes != null ? decodeUtf8(path, bytes)
                : GeneratedBody.generate(path, contentType, row.getInt("generated_bytes"));
        Array keys = row.getArray("surrogate_keys");
        List<String> surrogateKeys = Arrays.asList((String[]) keys.getArray());
        return new StaticAsset(path, contentType, body, surrogateKeys, row.getBoolean("requires_auth"),
                row.getLong("version"), row.getObject("updated_at", OffsetDateTime.class).toInstant(),
                StaticAsset.sha256(body));
    }

    private static String decodeUtf8(String path, byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalStateException("static asset " + path + " has a body that is not UTF-8;"
                    + " rewrite it with StaticAssetRepository.upsert, which accepts text only", e);
        }
    }
}
