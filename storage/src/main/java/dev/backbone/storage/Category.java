package dev.backbone.storage;

import java.util.Objects;

/**
 * One row of the {@code categories} table.
 *
 * @param id   the primary key
 * @param name the display name
 */
public record Category(long id, String name) {

    public Category {
        Objects.requireNonNull(name, "name");
    }
}
