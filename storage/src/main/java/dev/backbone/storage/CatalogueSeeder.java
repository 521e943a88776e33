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
 * Fills the catalogue with generated categories and products, for demos, tests and benchmarks.
 *
 * <p>Category ids run from 1 to {@code categories} and product ids from 1 to {@code products}. The same random seed
 * always generates the same rows. Rows whose id already exists are left unchanged, so seeding twice inserts nothing
 * the second time.
 */
public final class CatalogueSeeder {

    private static final Logger log = LoggerFactory.getLogger(CatalogueSeeder.class);

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

    private CatalogueSeeder() {
    }

    /**
     * Inserts categories 1 to {@code categories} and products 1 to {@code products} in one transaction. The schema
     * must exist: call {@link Database#migrate} first.
     *
     * @param categories how many categories, at least 1 when {@code products} is more than 0
     * @param products   how many products, at least 0
     * @param randomSeed the seed of the generated names, prices, stock and categories
     * @throws IllegalArgumentException when a count is negative, or products are requested without categories
     * @throws StorageException         when an insert fails; nothing is written then
     */
    public static SeedResult seed(DataSource dataSource, int categories, int products, long randomSeed) {
        if (categories < 0 || products < 0) {
            throw new IllegalArgumentException("categories and products must be >= 0, got categories=" + categories
                    + ", products=" + products);
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
                connection.commit();
                var result = new SeedResult(categoriesInserted, productsInserted, Duration.ofNanos(System.nanoTime() - startedAt));
                log.info("Seeded {} categories and {} products in {} ms", categoriesInserted, productsInserted,
                        result.elapsed().toMillis());
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

    private static String pick(List<String> words, SplittableRandom random) {
        return words.get(random.nextInt(words.size()));
    }
}
