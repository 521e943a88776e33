package dev.backbone.storage;

/**
 * The fields of a product that a client may change. A {@code null} field keeps its current value.
 *
 * @param name        the new name, not blank, or {@code null}
 * @param description the new description, possibly empty, or {@code null}
 * @param priceCents  the new price in cents, at least 0, or {@code null}
 * @param stock       the new stock, at least 0, or {@code null}
 */
public record ProductUpdate(String name, String description, Long priceCents, Integer stock) {

    /** Maximum length of a name, in characters. */
    public static final int MAX_NAME_LENGTH = 200;
    /** Maximum length of a description, in characters. */
    public static final int MAX_DESCRIPTION_LENGTH = 10_000;

    /** @throws IllegalArgumentException naming the first invalid field, its value and what is accepted */
    public ProductUpdate {
        if (name == null && description == null && priceCents == null && stock == null) {
            throw new IllegalArgumentException("update is empty; set at least one of name, description, priceCents, stock");
        }
        if (name != null && (name.isBlank() || name.length() > MAX_NAME_LENGTH)) {
            throw new IllegalArgumentException("name is blank or longer than " + MAX_NAME_LENGTH + " characters");
        }
        if (description != null && description.length() > MAX_DESCRIPTION_LENGTH) {
            throw new IllegalArgumentException("description is longer than " + MAX_DESCRIPTION_LENGTH + " characters");
        }
        if (priceCents != null && priceCents < 0) {
            throw new IllegalArgumentException("priceCents=" + priceCents + " is negative; accepted: an integer >= 0");
        }
        if (stock != null && stock < 0) {
            throw new IllegalArgumentException("stock=" + stock + " is negative; accepted: an integer >= 0");
        }
    }
}
