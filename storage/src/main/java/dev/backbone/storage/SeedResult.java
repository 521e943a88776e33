package dev.backbone.storage;

import java.time.Duration;

/**
 * Counts of the rows written by {@link CatalogueSeeder#seed}.
 *
 * @param categoriesInserted categories inserted; rows whose id already existed are not counted
 * @param productsInserted   products inserted; rows whose id already existed are not counted
 * @param accountsInserted   accounts inserted; rows whose id already existed are not counted
 * @param assetsWritten      static assets inserted or changed; assets already as seeded are not counted
 * @param elapsed            wall-clock time of the whole seed
 */
public record SeedResult(int categoriesInserted, int productsInserted, int accountsInserted, int assetsWritten,
                         Duration elapsed) {
}
