package dev.backbone.storage;

import java.util.Objects;

/**
 * A product to insert; the database assigns its id and version 1.
 *
 * @param categoryId  the category, which must exist
 * @param name        the name, not blank, at most {@link ProductUpdate#MAX_NAME_LENGTH} characters
 * @param description the description, possibly empty, at most {@link ProductUpdate#MAX_DESCRIPTION_LENGTH} characters
 * @param priceCents  the price in cents, at least 0
 * @param stock       the units in stock, at least 0
 */
public record NewProduct(long categoryId, String name, String description, long priceCents, int stock) {

    /** @throws IllegalArgumentException naming the first invalid field, its value and what is accepted */
    public NewProduct {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        if (categoryId < 0) {
            throw new IllegalArgumentException("categoryId=" + categoryId + " is negative; accepted: an integer >= 0");
        }
        if (name.isBlank() || name.length() > ProductUpdate.MAX_NAME_LENGTH) {
            throw new IllegalArgumentException("name is blank or longer than " + ProductUpdate.MAX_NAME_LENGTH + " characters");
        }
        if (description.length() > ProductUpdate.MAX_DESCRIPTION_LENGTH) {
            throw new IllegalArgumentException("description is longer than " + ProductUpdate.MAX_DESCRIPTION_LENGTH + " characters");
        }
        if (priceCents < 0) {
            throw new IllegalArgumentException("priceCents=" + priceCents + " is negative; accepted: an integer >= 0");
        }
        if (stock < 0) {
            throw new IllegalArgumentException("stock=" + stock + " is negative; accepted: an integer >= 0");
        }
    }
}
