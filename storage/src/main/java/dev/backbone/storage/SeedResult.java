package dev.backbone.storage;

import java.time.Duration;

/**
 * Counts of the rows inserted by {@link CatalogueSeeder#seed}.
 *
 * @param categoriesInserted categories inserted; rows whose id already existed are not counted
 * @param productsInserted   products inserted; rows whose id already existed are not counted
 * @param elapsed            wall-clock time of the whole seed
 */
public record SeedResult(int categoriesInserted, int productsInserted, Duration elapsed) {
}
