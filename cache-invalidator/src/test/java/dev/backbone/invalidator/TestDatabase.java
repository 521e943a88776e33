package dev.backbone.invalidator;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/** The catalogue tables of the storage module, recreated in plain SQL, and statements against them for tests. */
final class TestDatabase {

    private static final String SCHEMA = """
            CREATE TABLE public.categories (id bigint PRIMARY KEY, name text NOT NULL);
            CREATE TABLE public.products (
                id bigint PRIMARY KEY,
                category_id bigint REFERENCES public.categories (id),
                name text NOT NULL,
                description text,
                price_cents bigint NOT NULL,
                stock int NOT NULL,
                version bigint NOT NULL DEFAULT 1,
                updated_at timestamptz NOT NULL DEFAULT now());
            ALTER TABLE public.categories REPLICA IDENTITY FULL;
            ALTER TABLE public.products REPLICA IDENTITY FULL;
            CREATE FUNCTION public.bump_product_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.version := OLD.version + 1;
                NEW.updated_at := now();
                RETURN NEW;
            END $$;
            CREATE TRIGGER products_bump_version BEFORE UPDATE ON public.products
                FOR EACH ROW EXECUTE FUNCTION public.bump_product_version();
            """;

    private final DataSource dataSource;

    TestDatabase(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Creates the tables and the categories with the given ids. */
    void createSchema(long... categoryIds) throws SQLException {
        execute(SCHEMA);
        for (long id : categoryIds) {
            execute("INSERT INTO public.categories (id, name) VALUES (" + id + ", 'category " + id + "')");
        }
    }

    void insertProduct(long id, long categoryId) throws SQLException {
        execute("INSERT INTO public.products (id, category_id, name, description, price_cents, stock) VALUES ("
                + id + ", " + categoryId + ", 'product " + id + "', 'a test product', 1000, 5)");
    }

    /** Runs an UPDATE or INSERT with a {@code RETURNING version} clause and returns that version. */
    long returningVersion(String sql) throws SQLException {
        try (Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement();
             ResultSet result = statement.executeQuery(sql)) {
            if (!result.next()) {
                throw new IllegalStateException("no row returned by: " + sql);
            }
            return result.getLong(1);
        }
    }

    void execute(String sql) throws SQLException {
        try (Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }
}
