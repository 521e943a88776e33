package dev.backbone.cdn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EdgeCacheTest {

    private static final long NOW = 1_700_000_000_000L;

    private static CachedResponse response(String body, Set<String> surrogateKeys) {
        return new CachedResponse(200, List.of(new Header("Cache-Control", "max-age=60")), body.getBytes(), NOW, 0,
                NOW + 60_000, 0, 0, null, null, surrogateKeys, List.of(), "");
    }

    private static String noHeader(String name) {
        return null;
    }

    @Test
    void hardPurgeDuringFetchDiscardsResponse() {
        var cache = new EdgeCache(1 << 20);
        long ticket = cache.beginFetch();

        cache.purge("product:42", false, NOW);
        EdgeCache.StoreOutcome outcome = cache.store("GET a/x?", response("old", Set.of("product:42", "category:7")), ticket, NOW);
        cache.endFetch(ticket);

        assertThat(outcome).isEqualTo(EdgeCache.StoreOutcome.DISCARDED);
        assertThat(cache.lookup("GET a/x?", EdgeCacheTest::noHeader)).isEmpty();
        assertThat(cache.purgeMarks()).isZero();
    }

    @Test
    void softPurgeDuringFetchStoresStale() {
        var cache = new EdgeCache(1 << 20);
        long ticket = cache.beginFetch();

        cache.purge("product:42", true, NOW + 5);
        EdgeCache.StoreOutcome outcome = cache.store("GET a/x?", response("old", Set.of("product:42")), ticket, NOW + 10);

        assertThat(outcome).isEqualTo(EdgeCache.StoreOutcome.STORED_STALE);
        assertThat(cache.lookup("GET a/x?", EdgeCacheTest::noHeader).orElseThrow().isFresh(NOW + 10)).isFalse();
    }

    @Test
    void unrelatedPurgeKeepsResponse() {
        var cache = new EdgeCache(1 << 20);
        cache.purge("product:42", false, NOW);
        long ticket = cache.beginFetch();
        cache.purge("product:43", false, NOW);

        EdgeCache.StoreOutcome outcome = cache.store("GET a/x?", response("new", Set.of("product:42")), ticket, NOW);

        assertThat(outcome).isEqualTo(EdgeCache.StoreOutcome.STORED);
        assertThat(cache.purgedSince(ticket)).isTrue();
    }

    @Test
    void purgeAllDuringFetchDiscards() {
        var cache = new EdgeCache(1 << 20);
        long ticket = cache.beginFetch();
        cache.purgeAll(false, NOW);

        assertThat(cache.store("GET a/x?", response("old", Set.of()), ticket, NOW)).isEqualTo(EdgeCache.StoreOutcome.DISCARDED);
    }

    @Test
    void purgeRemovesEveryTaggedKey() {
        var cache = new EdgeCache(1 << 20);
        cache.store("GET a/1?", response("1", Set.of("category:7")), cache.beginFetch(), NOW);
        cache.store("GET a/2?", response("2", Set.of("category:7", "product:2")), cache.beginFetch(), NOW);
        cache.store("GET a/3?", response("3", Set.of("product:3")), cache.beginFetch(), NOW);

        int purged = cache.purge("category:7", false, NOW);

        assertThat(purged).isEqualTo(2);
        assertThat(cache.cacheKeys()).isEqualTo(1);
        assertThat(cache.purge("product:2", false, NOW)).isZero();
    }

    @Test
    void evictsLeastRecentlyUsedBeyondLimit() {
        long oneEntry = response("x".repeat(1000), Set.of()).sizeBytes();
        var cache = new EdgeCache(oneEntry * 2 + 10);
        cache.store("GET a/1?", response("x".repeat(1000), Set.of("k1")), cache.beginFetch(), NOW);
        cache.store("GET a/2?", response("x".repeat(1000), Set.of("k2")), cache.beginFetch(), NOW);
        cache.lookup("GET a/1?", EdgeCacheTest::noHeader);

        cache.store("GET a/3?", response("x".repeat(1000), Set.of("k3")), cache.beginFetch(), NOW);

        assertThat(cache.lookup("GET a/1?", EdgeCacheTest::noHeader)).isPresent();
        assertThat(cache.lookup("GET a/2?", EdgeCacheTest::noHeader)).isEmpty();
        assertThat(cache.lookup("GET a/3?", EdgeCacheTest::noHeader)).isPresent();
        assertThat(cache.bytes()).isLessThanOrEqualTo(oneEntry * 2 + 10);
        assertThat(cache.purge("k2", false, NOW)).isZero();
    }

    @Test
    void variantsSelectedByVaryHeaders() {
        var cache = new EdgeCache(1 << 20);
        Map<String, String> english = Map.of("accept-language", "en");
        Map<String, String> german = Map.of("accept-language", "de");
        cache.store("GET a/g?", variant("hello", english), cache.beginFetch(), NOW);
        cache.store("GET a/g?", variant("hallo", german), cache.beginFetch(), NOW);

        assertThat(new String(cache.lookup("GET a/g?", english::get).orElseThrow().body())).isEqualTo("hello");
        assertThat(new String(cache.lookup("GET a/g?", german::get).orElseThrow().body())).isEqualTo("hallo");
        assertThat(cache.lookup("GET a/g?", EdgeCacheTest::noHeader)).isEmpty();
        assertThat(cache.varyNames("GET a/g?")).containsExactly("accept-language");
    }

    private static CachedResponse variant(String body, Map<String, String> requestHeaders) {
        List<String> vary = List.of("accept-language");
        return new CachedResponse(200, List.of(new Header("Vary", "Accept-Language")), body.getBytes(), NOW, 0,
                NOW + 60_000, 0, 0, null, null, Set.of("page:g"), vary, VariantKey.of(vary, requestHeaders::get));
    }
}
