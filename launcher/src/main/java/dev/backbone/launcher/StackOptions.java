package dev.backbone.launcher;

/**
 * What the one-JVM stack starts with.
 *
 * @param httpPort    front-door port; 0 picks a free one
 * @param appServers  how many app servers to run
 * @param products    products to seed
 * @param categories  categories to seed
 */
public record StackOptions(int httpPort, int appServers, int products, int categories) {

    public StackOptions {
        if (appServers < 1) {
            throw new IllegalArgumentException("appServers must be >= 1, got " + appServers);
        }
        if (products < 1 || categories < 1) {
            throw new IllegalArgumentException("products and categories must be >= 1, got " + products + " and " + categories);
        }
    }
}
