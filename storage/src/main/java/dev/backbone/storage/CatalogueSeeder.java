package dev.backbone.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fills the database with generated categories, products and accounts and a fixed set of static assets
 * ({@link #ASSETS}), for demos, tests and benchmarks.
 *
 * <p>Category ids run from 1 to {@code categories}, product ids from 1 to {@code products} and account ids from 1 to
 * {@code accounts}. The same random seed always generates the same rows. Rows whose id already exists are left
 * unchanged, so seeding twice inserts nothing the second time. Afterwards {@code products_id_seq} continues after the
 * highest product id, so {@code POST /products} does not collide with seeded ids.
 */
public final class CatalogueSeeder {

    private static final Logger log = LoggerFactory.getLogger(CatalogueSeeder.class);

    /** Accounts seeded by {@link #seed(DataSource, int, int, long)}. */
    public static final int DEFAULT_ACCOUNTS = 100;

    /** Rows per INSERT statement; each statement sends one array per column. */
    private static final int CHUNK_ROWS = 5_000;

    private static final List<String> DEPARTMENTS = List.of("Books", "Garden", "Kitchen", "Toys", "Sports", "Music",
            "Office", "Outdoor", "Tools", "Games", "Travel", "Lighting", "Bath", "Pets", "Crafts", "Audio");
    private static final List<String> ADJECTIVES = List.of("Compact", "Classic", "Sturdy", "Light", "Foldable",
            "Quiet", "Bright", "Modular", "Rustic", "Smart", "Vintage", "Portable");
    private static final List<String> MATERIALS = List.of("oak", "steel", "cotton", "bamboo", "ceramic", "wool",
            "glass", "copper", "linen", "walnut");
    private static final List<String> NOUNS = List.of("lamp", "chair", "kettle", "backpack", "notebook", "speaker",
            "planter", "clock", "blanket", "mug", "shelf", "tent", "puzzle", "easel");

    private static final String INSERT_CATEGORIES = "INSERT INTO categories (id, name)"
            + " SELECT * FROM unnest(?::bigint[], ?::text[]) ON CONFLICT (id) DO NOTHING";

    private static final String INSERT_PRODUCTS = "INSERT INTO products (id, category_id, name, description, price_cents, stock)"
            + " SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::integer[])"
            + " ON CONFLICT (id) DO NOTHING";

    private static final String INSERT_ACCOUNTS = "INSERT INTO accounts (id, email, display_name, verified)"
            + " SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[], ?::boolean[]) ON CONFLICT (id) DO NOTHING";

    // setval(max) marks max as used, so the next id is max + 1; skipped when the sequence is past max already.
    private static final String ADVANCE_PRODUCT_IDS = "SELECT setval('products_id_seq', max(id)) FROM products"
            + " HAVING max(id) >= (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM products_id_seq)";

    private static final List<String> FIRST_NAMES = List.of("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald",
            "Frances", "Ken", "Radia", "Leslie", "Margaret", "Niklaus");
    private static final List<String> LAST_NAMES = List.of("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov",
            "Knuth", "Allen", "Thompson", "Perlman", "Lamport", "Hamilton", "Wirth");

    /** Share of seeded accounts that are verified. */
    private static final double VERIFIED_SHARE = 0.3;

    /** The static assets every seed writes, each with a text body or a generated one. */
    public static final List<StaticAssetRepository.AssetContent> ASSETS = List.of(
            new StaticAssetRepository.AssetContent("/css/site.css", "text/css; charset=utf-8",
                    "body { font-family: sans-serif; margin: 0 auto; max-width: 60rem; }\n", null, List.of(), false),
            new StaticAssetRepository.AssetContent("/js/app.js", "text/javascript; charset=utf-8",
                    "document.documentElement.dataset.ready = 'true';\n", null, List.of(), false),
            new StaticAssetRepository.AssetContent("/img/logo.svg", "image/svg+xml",
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"32\" height=\"32\"><circle cx=\"16\" cy=\"16\" r=\"14\"/></svg>\n",
                    null, List.of(), false),
            new StaticAssetRepository.AssetContent("/data/featured.json", "application/json",
                    "{\"featuredProductIds\":[1,2,3]}\n", null, List.of("product:1", "product:2", "product:3"), false),
            new StaticAssetRepository.AssetContent("/docs/catalogue.html", "text/html; charset=utf-8",
                    null, 64 * 1024, List.of("category:1"), false),
            new StaticAssetRepository.AssetContent("/members/guide.html", "text/html; charset=utf-8",
                    "<!doctype html><title>Members' guide</title><p>For signed-in members only.</p>\n", null, List.of(), true));

    private CatalogueSeeder() {
    }

    /** Seeds {@link #DEFAULT_ACCOUNTS} accounts besides the catalogue; see {@link #seed(DataSource, int, int, int, long)}. */
    public static SeedResult seed(DataSource dataSource, int categories, int products, long randomSeed) {
        return seed(dataSource, categories, products, DEFAULT_ACCOUNTS, randomSeed);
    }

    /**
     * Inserts categories 1 to {@code categories}, products 1 to {@code products}, accounts 1 to {@code accounts} and
     * the {@link #ASSETS} in one transaction. About 30 % of the accounts are verified. The schema must exist: call
     * {@link Database#migrate} first.
     *
     * @param categories how many categories, at least 1 when {@code products} is more than 0
     * @param products   how many products, at least 0
     * @param accounts   how many accounts, at least 0
     * @param randomSeed the seed of the generated names, prices, stock, categories and verified flags
     * @throws IllegalArgumentException when a count is negative, or products are requested without categories
     * @throws StorageException         when an insert fails; nothing is written then
     */
    public static SeedResult seed(DataSource dataSource, int categories, int products, int accounts, long randomSeed) {
        if (categories < 0 || products < 0 || accounts < 0) {
            throw new IllegalArgumentException("categories, products and accounts must be >= 0, got categories="
                    + categories + ", products=" + products + ", accounts=" + accounts);
        }
        if (products > 0 && categories == 0) {
            throw new IllegalArgumentException("products=" + products + " needs categories >= 1 to belong to");
        }
        long startedAt = System.nanoTime();
        var random = new SplittableRandom(randomSeed);
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                int categoriesInserted = insertCategories(connection, categories);
                int productsInserted = insertProducts(connection, products, categories, random);
                advanceProductIds(connection);
                int accountsInserted = insertAccounts(connection, accounts, random);
                int assetsWritten = 0;
                for (StaticAssetRepository.AssetContent asset : ASSETS) {
                    assetsWritten += StaticAssetRepository.upsert(connection, asset) ? 1 : 0;
                }
                connection.commit();
                var result = new SeedResult(categoriesInserted, productsInserted, accountsInserted, assetsWritten,
                        Duration.ofNanos(System.nanoTime() - startedAt));
                log.info("Seeded {} categories, {} products, {} accounts and {} static assets in {} ms", categoriesInserted,
                        productsInserted, accountsInserted, assetsWritten, result.elapsed().toMillis());
                return result;
            } catch (SQLException | RuntimeException e) {
                Transactions.rollbackQuietly(connection, e);
                throw e;
            }
        } catch (SQLException e) {
            throw new StorageException("cannot seed the catalogue", e);
        }
    }

    private static int insertCategories(Connection connection, int categories) throws SQLException {
        int inserted = 0;
        for (int first = 1; first <= categories; first += CHUNK_ROWS) {
            int count = Math.min(CHUNK_ROWS, categories - first + 1);
            Long[] ids = new Long[count];
            String[] names = new String[count];
            for (int i = 0; i < count; i++) {
                int id = first + i;
                ids[i] = (long) id;
                names[i] = categoryName(id);
            }
            try (PreparedStatement statement = connection.prepareStatement(INSERT_CATEGORIES)) {
                statement.setArray(1, connection.createArrayOf("bigint", ids));
                statement.setArray(2, connection.createArrayOf("text", names));
                inserted += statement.executeUpdate();
            }
        }
        return inserted;
    }

    /** Returns a department name, numbered once the list of departments is used up: Books, ..., Audio, Books 2. */
    private static String categoryName(int id) {
        String department = DEPARTMENTS.get((id - 1) % DEPARTMENTS.size());
        int round = (id - 1) / DEPARTMENTS.size();
        return round == 0 ? department : department + " " + (round + 1);
    }

    private static int insertProducts(Connection connection, int products, int categories, SplittableRandom random)
            throws SQLException {
        int inserted = 0;
        for (int first = 1; first <= products; first += CHUNK_ROWS) {
            int count = Math.min(CHUNK_ROWS, products - first + 1);
            Long[] ids = new Long[count];
            Long[] categoryIds = new Long[count];
            String[] names = new String[count];
            String[] descriptions = new String[count];
            Long[] prices = new Long[count];
            Integer[] stocks = new Integer[count];
            for (int i = 0; i < count; i++) {
                String adjective = pick(ADJECTIVES, random);
                String material = pick(MATERIALS, random);
                String noun = pick(NOUNS, random);
                ids[i] = (long) (first + i);
                categoryIds[i] = 1L + random.nextInt(categories);
                names[i] = adjective + " " + material + " " + noun;
                descriptions[i] = "A " + adjective.toLowerCase(java.util.Locale.ROOT) + " " + noun + " made of " + material + ".";
                prices[i] = 99L + random.nextLong(50_000L);
                stocks[i] = random.nextInt(500);
            }
            try (PreparedStatement statement = connection.prepareStatement(INSERT_PRODUCTS)) {
                statement.setArray(1, connection.createArrayOf("bigint", ids));
                statement.setArray(2, connection.createArrayOf("bigint", categoryIds));
                statement.setArray(3, connection.createArrayOf("text", names));
                statement.setArray(4, connection.createArrayOf("text", descriptions));
                statement.setArray(5, connection.createArrayOf("bigint", prices));
                statement.setArray(6, connection.createArrayOf("integer", stocks));
                inserted += statement.executeUpdate();
            }
        }
        return inserted;
    }

    private static void advanceProductIds(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(ADVANCE_PRODUCT_IDS)) {
            statement.execute();
        }
    }

    private static int insertAccounts(Connection connection, int accounts, SplittableRandom random) throws SQLException {
        int inserted = 0;
        for (int first = 1; first <= accounts; first += CHUNK_ROWS) {
            int count = Math.min(CHUNK_ROWS, accounts - first + 1);
            Long[] ids = new Long[count];
            String[] emails = new String[count];
            String[] names = new String[count];
            Boolean[] verified = new Boolean[count];
            for (int i = 0; i < count; i++) {
                long id = first + i;
                ids[i] = id;
                emails[i] = "user" + id + "@example.com";
                names[i] = pick(FIRST_NAMES, random) + " " + pick(LAST_NAMES, random);
                verified[i] = random.nextDouble() < VERIFIED_SHARE;
            }
            try (PreparedStatement statement = connection.prepareStatement(INSERT_ACCOUNTS)) {
                statement.setArray(1, connection.createArrayOf("bigint", ids));
                statement.setArray(2, connection.createArrayOf("text", emails));
                statement.setArray(3, connection.createArrayOf("text", names));
                statement.setArray(4, connection.createArrayOf("boolean", verified));
                inserted += statement.executeUpdate();
            }
        }
        return inserted;
    }

    private static String pick(List<String> words, SplittableRandom random) {
        return words.get(random.nextInt(words.size()));
    }
}
