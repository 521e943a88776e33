package dev.backbone.storage;

import java.util.List;
import java.util.Objects;

/**
 * One page of the products of a category, in ascending id order.
 *
 * @param category the category
 * @param page     the page number, from 1
 * @param size     the maximum number of products per page
 * @param products the products of this page, at most {@code size}
 * @param hasMore  whether a later page has products
 */
public record CategoryPage(Category category, int page, int size, List<Product> products, boolean hasMore) {

    public CategoryPage {
        Objects.requireNonNull(category, "category");
        products = List.copyOf(products);
    }
}
