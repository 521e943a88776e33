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
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
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

        assertThat(queryLong("SELECT count(*) FROM flyway_schema_history WHERE success")).isEqualTo(3);
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
        assertThat(queryString("SELECT relreplident FROM pg_class WHERE relname = 'accounts'")).isEqualTo("f");
        assertThat(queryString("SELECT relreplident FROM pg_class WHERE relname = 'static_assets'")).isEqualTo("f");
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
        // Other tests insert products after the seeded ids.
        assertThat(queryLong("SELECT count(*) FROM products WHERE id <= " + PRODUCTS)).isEqualTo(PRODUCTS);
        assertThat(queryLong("SELECT count(*) FROM products WHERE version = 1 AND price_cents >= 0 AND stock >= 0"))
                .isGreaterThan(PRODUCTS - 10);
    }

    @Test
    void seedingAgainInsertsNothing() throws SQLException {
        SeedResult again = CatalogueSeeder.seed(pool, CATEGORIES, PRODUCTS, SEED);

        assertThat(again.categoriesInserted()).isZero();
        assertThat(again.productsInserted()).isZero();
        assertThat(again.accountsInserted()).isZero();
        assertThat(again.assetsWritten()).isZero();
        assertThat(queryLong("SELECT count(*) FROM products WHERE id <= " + PRODUCTS)).isEqualTo(PRODUCTS);
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
    void seederInsertsAccountsAndAssets() throws SQLException {
        assertThat(firstSeed.accountsInserted()).isEqualTo(CatalogueSeeder.DEFAULT_ACCOUNTS);
        assertThat(firstSeed.assetsWritten()).isEqualTo(CatalogueSeeder.ASSETS.size());
        long verified = queryLong("SELECT count(*) FROM accounts WHERE verified");
        assertThat(verified).isBetween(1L, (long) CatalogueSeeder.DEFAULT_ACCOUNTS - 1);
    }

    @Test
    void seederMovesProductIdsPastSeededRows() {
        WriteResult<Product> inserted = new ProductRepository(pool).insert(new NewProduct(1, "New kettle", "", 2_500, 3));

        assertThat(inserted.status()).isEqualTo(WriteResult.Status.WRITTEN);
        assertThat(inserted.row().id()).isGreaterThan(PRODUCTS);
        assertThat(inserted.row().version()).isEqualTo(1);
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
    void updateWithExpectedVersionChecksIt() throws SQLException {
        var repository = new ProductRepository(pool);
        long version = queryLong("SELECT version FROM products WHERE id = 30");

        WriteResult<Product> stale = repository.update(30, new ProductUpdate(null, null, null, 9), OptionalLong.of(version + 10));
        WriteResult<Product> current = repository.update(30, new ProductUpdate(null, null, null, 9), OptionalLong.of(version));

        assertThat(stale.status()).isEqualTo(WriteResult.Status.VERSION_MISMATCH);
        assertThat(stale.currentVersion()).isEqualTo(version);
        assertThat(current.status()).isEqualTo(WriteResult.Status.WRITTEN);
        assertThat(current.row().version()).isEqualTo(version + 1);
        assertThat(current.row().stock()).isEqualTo(9);
    }

    @Test
    void conditionalUpdateOfUnknownId() {
        WriteResult<Product> result = new ProductRepository(pool).update(PRODUCTS + 10_000, new ProductUpdate("x", null, null, null),
                OptionalLong.of(1));

        assertThat(result.status()).isEqualTo(WriteResult.Status.NOT_FOUND);
    }

    @Test
    void deleteChecksExpectedVersion() throws SQLException {
        var repository = new ProductRepository(pool);
        long id = repository.insert(new NewProduct(2, "Doomed lamp", "", 100, 1)).row().id();

        WriteResult<Product> stale = repository.delete(id, OptionalLong.of(2));
        WriteResult<Product> deleted = repository.delete(id, OptionalLong.of(1));
        WriteResult<Product> again = repository.delete(id, OptionalLong.empty());

        assertThat(stale.status()).isEqualTo(WriteResult.Status.VERSION_MISMATCH);
        assertThat(stale.currentVersion()).isEqualTo(1);
        assertThat(deleted.status()).isEqualTo(WriteResult.Status.WRITTEN);
        assertThat(deleted.row().name()).isEqualTo("Doomed lamp");
        assertThat(again.status()).isEqualTo(WriteResult.Status.NOT_FOUND);
        assertThat(queryLong("SELECT count(*) FROM products WHERE id = " + id)).isZero();
    }

    @Test
    void insertIntoUnknownCategoryIsRejected() {
        WriteResult<Product> result = new ProductRepository(pool).insert(new NewProduct(CATEGORIES + 1, "Orphan", "", 1, 1));

        assertThat(result.status()).isEqualTo(WriteResult.Status.CATEGORY_NOT_FOUND);
    }

    @Test
    void categoryPagesListProductsInIdOrder() throws SQLException {
        var repository = new ProductRepository(pool);
        long inCategory = queryLong("SELECT count(*) FROM products WHERE category_id = 4");
        int size = 7;
        int lastPage = (int) ((inCategory + size - 1) / size);

        CategoryPage first = repository.findByCategory(4, 1, size).orElseThrow();
        CategoryPage second = repository.findByCategory(4, 2, size).orElseThrow();
        CategoryPage last = repository.findByCategory(4, lastPage, size).orElseThrow();
        CategoryPage past = repository.findByCategory(4, lastPage + 1, size).orElseThrow();

        assertThat(first.category()).isEqualTo(new Category(4, queryString("SELECT name FROM categories WHERE id = 4")));
        assertThat(first.products()).hasSize(size).allMatch(product -> product.categoryId() == 4);
        assertThat(first.products()).extracting(Product::id).isSorted();
        assertThat(second.products().get(0).id()).isGreaterThan(first.products().get(size - 1).id());
        assertThat(first.hasMore()).isTrue();
        assertThat(last.hasMore()).isFalse();
        assertThat(last.products()).hasSize((int) (inCategory - (long) (lastPage - 1) * size));
        assertThat(past.products()).isEmpty();
        assertThat(past.hasMore()).isFalse();
    }

    @Test
    void categoryPageOfUnknownCategoryIsEmpty() {
        assertThat(new ProductRepository(pool).findByCategory(CATEGORIES + 1, 1, 10)).isEmpty();
    }

    @Test
    void categoryPageSizeIsLimited() {
        var repository = new ProductRepository(pool);

        assertThatThrownBy(() -> repository.findByCategory(1, 1, ProductRepository.MAX_PAGE_SIZE + 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("size");
        assertThatThrownBy(() -> repository.findByCategory(1, 0, 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("page");
    }

    @Test
    void accountRepositoryReadsAccounts() throws SQLException {
        var repository = new AccountRepository(pool);

        Account account = repository.findById(5).orElseThrow();
        List<Long> verified = repository.findVerifiedIds(1_000);

        assertThat(account.email()).isEqualTo("user5@example.com");
        assertThat(account.version()).isEqualTo(1);
        assertThat(account.verified()).isEqualTo(verified.contains(5L));
        assertThat(verified).hasSize((int) queryLong("SELECT count(*) FROM accounts WHERE verified")).isSorted();
        assertThat(repository.findVerifiedIds(2)).hasSize(2);
        assertThat(repository.findById(CatalogueSeeder.DEFAULT_ACCOUNTS + 1)).isEmpty();
    }

    @Test
    void accountUpdateBumpsVersion() throws SQLException {
        execute("UPDATE accounts SET verified = NOT verified WHERE id = 9");

        assertThat(new AccountRepository(pool).findById(9).orElseThrow().version()).isEqualTo(2);
    }

    @Test
    void seededAssetsAreReadable() {
        var repository = new StaticAssetRepository(pool);

        StaticAsset css = repository.findByPath("/css/site.css").orElseThrow();
        StaticAsset featured = repository.findByPath("/data/featured.json").orElseThrow();
        StaticAsset generated = repository.findByPath("/docs/catalogue.html").orElseThrow();
        StaticAsset members = repository.findByPath("/members/guide.html").orElseThrow();

        assertThat(css.contentType()).isEqualTo("text/css; charset=utf-8");
        assertThat(css.body()).startsWith("body {");
        assertThat(css.contentSha256()).isEqualTo(StaticAsset.sha256(css.body())).hasSize(64);
        assertThat(css.requiresAuth()).isFalse();
        assertThat(featured.surrogateKeys()).containsExactly("product:1", "product:2", "product:3");
        assertThat(generated.body()).hasSize(64 * 1024).startsWith("<!-- generated asset /docs/catalogue.html").endsWith("-->\n");
        assertThat(repository.findByPath("/docs/catalogue.html").orElseThrow().body()).isEqualTo(generated.body());
        assertThat(members.requiresAuth()).isTrue();
        assertThat(repository.findByPath("/css/missing.css")).isEmpty();
    }

    @Test
    void assetUpsertBumpsVersionOnlyOnChange() {
        var repository = new StaticAssetRepository(pool);
        var content = new StaticAssetRepository.AssetContent("/txt/notes.txt", "text/plain", "first", null, List.of(), false);

        assertThat(repository.upsert(content)).isTrue();
        assertThat(repository.upsert(content)).isFalse();
        assertThat(repository.findByPath("/txt/notes.txt").orElseThrow().version()).isEqualTo(1);
        assertThat(repository.upsert(new StaticAssetRepository.AssetContent("/txt/notes.txt", "text/plain", "second", null,
                List.of("category:2"), false))).isTrue();

        StaticAsset changed = repository.findByPath("/txt/notes.txt").orElseThrow();
        assertThat(changed.version()).isEqualTo(2);
        assertThat(changed.body()).isEqualTo("second");
        assertThat(changed.surrogateKeys()).containsExactly("category:2");
    }

    @Test
    void assetContentAcceptsTextOnly() {
        assertThatThrownBy(() -> new StaticAssetRepository.AssetContent("/img/photo.png", "image/png", "x", null, List.of(), false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("contentType=image/png");
        assertThatThrownBy(() -> new StaticAssetRepository.AssetContent("/a/../b.css", "text/css", "x", null, List.of(), false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("path=/a/../b.css");
        assertThatThrownBy(() -> new StaticAssetRepository.AssetContent("/a.css", "text/css", "x", 10, List.of(), false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly one of body and generatedBytes");
    }

    @Test
    void databaseRejectsUnsafeAssetRows() {
        for (String path : new String[] {"/a/../b.css", "/a/./b.css", "/a//b.css", "/a/%2e%2e/b.css", "/..", "relative.css"}) {
            assertThatThrownBy(() -> execute("INSERT INTO static_assets (path, content_type, body) VALUES ('" + path
                    + "', 'text/css', 'x')")).as(path).isInstanceOf(SQLException.class).hasMessageContaining("static_assets");
        }
        assertThatThrownBy(() -> execute("INSERT INTO static_assets (path, content_type, body) VALUES ('/p.png', 'image/png', 'x')"))
                .isInstanceOf(SQLException.class).hasMessageContaining("static_assets_text_content_type");
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
