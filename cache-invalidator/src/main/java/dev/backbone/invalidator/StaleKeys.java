package dev.backbone.invalidator;

import dev.backbone.events.Invalidation;
import java.util.List;

/**
 * What one row change makes stale.
 *
 * @param invalidations one invalidation per stale cache key of the app servers' L1 and L2 caches, each key once
 * @param surrogateKeys the CDN surrogate keys to purge, each once. They are a subset of the cache keys, because only
 *                      catalogue rows and static assets are served through the CDN
 */
record StaleKeys(List<Invalidation> invalidations, List<String> surrogateKeys) {

    static final StaleKeys NONE = new StaleKeys(List.of(), List.of());

    StaleKeys {
        invalidations = List.copyOf(invalidations);
        surrogateKeys = List.copyOf(surrogateKeys);
    }

    boolean isEmpty() {
        return invalidations.isEmpty() && surrogateKeys.isEmpty();
    }
}
