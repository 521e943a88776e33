package dev.backbone.storage;

import java.time.Instant;
import java.util.Objects;

/**
 * One row of the {@code products} table.
 *
 * @param id          the primary key
 * @param categoryId  the category the product belongs to
 * @param name        the display name
 * @param description the description, possibly empty
 * @param priceCents  the price in cents, at least 0
 * @param stock       the units in stock, at least 0
 * @param version     the row version: 1 on insert, one more on every update
 * @param updatedAt   the start time of the transaction that last wrote the row
 */
public record Product(
        long id,
        long categoryId,
        String name,
        String description,
        long priceCents,
        int stock,
        long version,
        Instant updatedAt) {

    public Product {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }

    /** Returns the cache key and surrogate key of this product, such as {@code product:42}. */
    public String cacheKey() {
        return cacheKey(id);
    }

    /** Returns the cache key of a product id, such as {@code product:42}. */
    public static String cacheKey(long id) {
        return "product:" + id;
    }
}
