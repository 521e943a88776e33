package dev.backbone.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.backbone.embedded.EmbeddedPostgresServer;
import dev.backbone.embedded.EmbeddedStackExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedStackExtension.class)
class StorageIT {

    private static final int CATEGORIES = 50;
    private static final int PRODUCTS = 10_000;
    private static final long SEED = 20240601L;

    private static HikariDataSource pool;
    private static SeedResult firstSeed;

    @BeforeAll
    static void migrateAndSeed(EmbeddedPostgresServer postgres) {
        pool = Database.pool(postgres.jdbcUrl(), 4);
        Database.migrate(pool);
        firstSeed = CatalogueSeeder.seed(pool, CATEGORIES, PRODUCTS, SEED);
    }

    @AfterAll
    static void closePool() {
        pool.close();
    }

    @Test
    void migrateTwiceIsNoOp() throws SQLException {
        Database.migrate(pool);

        assertThat(queryLong("SELECT count(*) FROM flyway_schema_history WHERE success")).isEqualTo(2);
    }

    @Test
    void migrationsCreateEveryTable() throws SQLException {
        for (String table : new String[] {"categories", "products", "accounts", "static_assets"}) {
            assertThat(queryLong("SELECT count(*) FROM information_schema.tables WHERE table_name = '" + table + "'"))
                    .as(table).isEqualTo(1);
        }
    }

    @Test
    void catalogueTablesHaveFullReplicaIdentity() throws SQLException {
        // relreplident 'f' means REPLICA IDENTITY FULL: change events carry the whole old row.
        assertThat(queryString("SELECT relreplident FROM pg_class WHERE relname = 'products'")).isEqualTo("f");
        assertThat(queryString("SELECT relreplident FROM pg_class WHERE relname = 'categories'")).isEqualTo("f");
    }

    @Test
    void directSqlUpdateBumpsVersion() throws SQLException {
        long before = queryLong("SELECT version FROM products WHERE id = 3");

        execute("UPDATE products SET stock = stock + 1 WHERE id = 3");
        execute("UPDATE products SET version = 1, name = name WHERE id = 3");

        assertThat(queryLong("SELECT version FROM products WHERE id = 3")).isEqualTo(before + 2);
        assertThat(queryLong("SELECT count(*) FROM products WHERE id = 3 AND updated_at > now() - interval '1 minute'"))
                .isEqualTo(1);
    }

    @Test
    void negativePriceViolatesCheck() {
        assertThatThrownBy(() -> execute("UPDATE products SET price_cents = -1 WHERE id = 4"))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("price_cents");
    }

    @Test
    void seederInsertsRequestedCounts() throws SQLException {
        assertThat(firstSeed.categoriesInserted()).isEqualTo(CATEGORIES);
        assertThat(firstSeed.productsInserted()).isEqualTo(PRODUCTS);
        assertThat(queryLong("SELECT count(*) FROM categories")).isEqualTo(CATEGORIES);
        assertThat(queryLong("SELECT count(*) FROM products")).isEqualTo(PRODUCTS);
        assertThat(queryLong("SELECT count(*) FROM products WHERE version = 1 AND price_cents >= 0 AND stock >= 0"))
                .isGreaterThan(PRODUCTS - 10);
    }

    @Test
    void seedingAgainInsertsNothing() throws SQLException {
        SeedResult again = CatalogueSeeder.seed(pool, CATEGORIES, PRODUCTS, SEED);

        assertThat(again.categoriesInserted()).isZero();
        assertThat(again.productsInserted()).isZero();
        assertThat(queryLong("SELECT count(*) FROM products")).isEqualTo(PRODUCTS);
    }

    @Test
    void sameSeedGivesSameRows(EmbeddedPostgresServer postgres) throws SQLException {
        try (Connection admin = postgres.dataSource().getConnection(); Statement statement = admin.createStatement()) {
            statement.execute("CREATE DATABASE seed_check");
        }
        String otherUrl = postgres.jdbcUrl().replace("/" + EmbeddedPostgresServer.DATABASE + "?", "/seed_check?");
        String digest = "SELECT md5(string_agg(id || ',' || category_id || ',' || name || ',' || description || ','"
                + " || price_cents || ',' || stock, ';' ORDER BY id)) FROM products WHERE id > 100";
        try (HikariDataSource other = Database.pool(otherUrl, 2)) {
            Database.migrate(other);
            CatalogueSeeder.seed(other, CATEGORIES, PRODUCTS, SEED);
            String otherDigest;
            try (Connection connection = other.getConnection(); Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery(digest)) {
                rows.next();
                otherDigest = rows.getString(1);
            }
            // Products 1 to 100 are left out: other tests in this class update a few of them.
            assertThat(otherDigest).isEqualTo(queryString(digest));
        }
    }

    @Test
    void seederRejectsProductsWithoutCategories() {
        assertThatThrownBy(() -> CatalogueSeeder.seed(pool, 0, 5, SEED))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("categories");
    }

    @Test
    void repositoryFindsSeededProduct() throws SQLException {
        var repository = new ProductRepository(pool);

        Optional<Product> product = repository.findById(10);

        assertThat(product).isPresent();
        assertThat(product.get().id()).isEqualTo(10);
        assertThat(product.get().name()).isEqualTo(queryString("SELECT name FROM products WHERE id = 10"));
        assertThat(product.get().version()).isEqualTo(queryLong("SELECT version FROM products WHERE id = 10"));
    }

    @Test
    void repositoryFindsNothingForUnknownId() {
        assertThat(new ProductRepository(pool).findById(PRODUCTS + 1)).isEmpty();
    }

    @Test
    void repositoryUpdateReturnsNewVersion() throws SQLException {
        var repository = new ProductRepository(pool);
        Product before = repository.findById(7).orElseThrow();

        Product after = repository.update(7, new ProductUpdate(null, "Now with a lid.", 1_999L, null)).orElseThrow();

        assertThat(after.version()).isEqualTo(before.version() + 1);
        assertThat(after.description()).isEqualTo("Now with a lid.");
        assertThat(after.priceCents()).isEqualTo(1_999L);
        assertThat(after.name()).isEqualTo(before.name());
        assertThat(after.stock()).isEqualTo(before.stock());
        assertThat(after.updatedAt()).isAfterOrEqualTo(before.updatedAt());
        assertThat(repository.findById(7)).contains(after);
        assertThat(queryLong("SELECT price_cents FROM products WHERE id = 7")).isEqualTo(1_999L);
    }

    @Test
    void repositoryUpdateOfUnknownIdIsEmpty() {
        assertThat(new ProductRepository(pool).update(PRODUCTS + 1, new ProductUpdate("x", null, null, null))).isEmpty();
    }

    @Test
    void productUpdateRejectsNegativeStock() {
        assertThatThrownBy(() -> new ProductUpdate(null, null, null, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stock=-1");
    }

    private static void execute(String sql) throws SQLException {
        try (Connection connection = pool.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    private static long queryLong(String sql) throws SQLException {
        try (Connection connection = pool.getConnection(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getLong(1);
        }
    }

    private static String queryString(String sql) throws SQLException {
        try (Connection connection = pool.getConnection(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getString(1);
        }
    }
}
