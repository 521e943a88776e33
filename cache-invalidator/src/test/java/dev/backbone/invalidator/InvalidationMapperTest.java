package dev.backbone.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.events.Invalidation;
import java.util.List;
import org.junit.jupiter.api.Test;

class InvalidationMapperTest {

    private static final long NOW = 1_700_000_009_000L;

    private final ChangeEventParser parser = new ChangeEventParser();
    private final InvalidationMapper mapper = new InvalidationMapper();

    private List<Invalidation> map(String key, String table, String op, String before, String after) {
        return staleKeys(key, table, op, before, after).invalidations();
    }

    private StaleKeys staleKeys(String key, String table, String op, String before, String after) {
        String value = """
                {"before": %s, "after": %s, "op": "%s", "ts_ms": 1700000000135,
                 "source": {"ts_ms": 1700000000123, "schema": "public", "table": "%s"}}"""
                .formatted(before, after, op, table);
        return mapper.map(parser.parse(key, value).orElseThrow(), NOW);
    }

    @Test
    void productUpdateCarriesNewVersion() {
        List<Invalidation> invalidations = map(null, "products", "u",
                "{\"id\": 42, \"category_id\": 7, \"version\": 3}", "{\"id\": 42, \"category_id\": 7, \"version\": 4}");

        assertThat(invalidations).containsExactly(
                new Invalidation(Invalidation.SCHEMA_VERSION, "product:42", 4, "u", 1700000000123L, 1700000000135L));
    }

    @Test
    void productMoveInvalidatesBothCategories() {
        List<Invalidation> invalidations = map(null, "products", "u",
                "{\"id\": 42, \"category_id\": 7, \"version\": 3}", "{\"id\": 42, \"category_id\": 8, \"version\": 4}");

        assertThat(invalidations).extracting(Invalidation::cacheKey).containsExactly("product:42", "category:7", "category:8");
        assertThat(invalidations).extracting(Invalidation::version).containsExactly(4L, -1L, -1L);
    }

    @Test
    void productInsertInvalidatesItsCategory() {
        List<Invalidation> invalidations = map(null, "products", "c", "null", "{\"id\": 43, \"category_id\": 7, \"version\": 1}");

        assertThat(invalidations).extracting(Invalidation::cacheKey).containsExactly("product:43", "category:7");
        assertThat(invalidations.get(0).version()).isEqualTo(1);
        assertThat(invalidations.get(0).operation()).isEqualTo("c");
    }

    @Test
    void productDeleteHasUnknownVersion() {
        List<Invalidation> invalidations = map(null, "products", "d", "{\"id\": 42, \"category_id\": 7, \"version\": 4}", "null");

        assertThat(invalidations).extracting(Invalidation::cacheKey).containsExactly("product:42", "category:7");
        assertThat(invalidations).extracting(Invalidation::version).containsExactly(-1L, -1L);
        assertThat(invalidations).extracting(Invalidation::operation).containsOnly("d");
    }

    @Test
    void deleteWithoutImagesUsesRecordKey() {
        List<Invalidation> invalidations = map("public.products:42", "products", "d", "null", "null");

        assertThat(invalidations).extracting(Invalidation::cacheKey).containsExactly("product:42");
    }

    @Test
    void deleteWithoutAnyKeyIsMalformed() {
        assertThatThrownBy(() -> map(null, "products", "d", "null", "null"))
                .isInstanceOf(MalformedChangeEventException.class)
                .hasMessageContaining("no id");
    }

    @Test
    void updateWithoutOldImageInvalidatesNewCategory() {
        List<Invalidation> invalidations = map(null, "products", "u", "null", "{\"id\": 42, \"category_id\": 8, \"version\": 4}");

        assertThat(invalidations).extracting(Invalidation::cacheKey).containsExactly("product:42", "category:8");
    }

    @Test
    void primaryKeyChangeInvalidatesOldAndNewKey() {
        List<Invalidation> invalidations = map(null, "products", "u",
                "{\"id\": 42, \"category_id\": 7, \"version\": 3}", "{\"id\": 44, \"category_id\": 7, \"version\": 4}");

        assertThat(invalidations).extracting(Invalidation::cacheKey).containsExactly("product:44", "product:42");
        assertThat(invalidations).extracting(Invalidation::version).containsExactly(4L, -1L);
    }

    @Test
    void unchangedToastPlaceholderIsNoCategory() {
        List<Invalidation> invalidations = map(null, "products", "u",
                "{\"id\": 42, \"category_id\": 7, \"description\": \"__debezium_unavailable_value\", \"version\": 3}",
                "{\"id\": 42, \"category_id\": 7, \"description\": \"__debezium_unavailable_value\", \"version\": 4}");

        assertThat(invalidations).extracting(Invalidation::cacheKey).containsExactly("product:42");
    }

    @Test
    void categoryChangeInvalidatesCategory() {
        List<Invalidation> invalidations = map(null, "categories", "u", "{\"id\": 7, \"name\": \"Lamps\"}", "{\"id\": 7, \"name\": \"Lights\"}");

        assertThat(invalidations).containsExactly(
                new Invalidation(Invalidation.SCHEMA_VERSION, "category:7", -1, "u", 1700000000123L, 1700000000135L));
    }

    @Test
    void otherTableMapsToNothing() {
        assertThat(map(null, "audit_log", "u", "null", "{\"id\": 1}")).isEmpty();
    }

    @Test
    void truncateMapsToNothing() {
        assertThat(map(null, "products", "t", "null", "null")).isEmpty();
    }

    @Test
    void missingCaptureTimeUsesNow() {
        String value = """
                {"before": null, "after": {"id": 7}, "op": "c",
                 "source": {"ts_ms": 1700000000123, "schema": "public", "table": "categories"}}""";

        List<Invalidation> invalidations = mapper.map(parser.parse(null, value).orElseThrow(), NOW).invalidations();

        assertThat(invalidations.get(0).capturedAtMs()).isEqualTo(NOW);
    }

    @Test
    void productKeysArePurgedToo() {
        StaleKeys keys = staleKeys(null, "products", "u",
                "{\"id\": 42, \"category_id\": 7, \"version\": 3}", "{\"id\": 42, \"category_id\": 8, \"version\": 4}");

        assertThat(keys.surrogateKeys()).containsExactly("product:42", "category:7", "category:8");
    }

    @Test
    void keyOnlyDeleteImageNamesNoCategory() {
        // Without REPLICA IDENTITY FULL, Debezium fills the NOT NULL columns of a delete's old image with their column
        // default or a zero value, as captured from PostgreSQL 14 by Debezium 3.6.1.Final.
        StaleKeys keys = staleKeys("public.products:42", "products", "d",
                "{\"id\": 42, \"category_id\": 0, \"name\": \"\", \"description\": \"\", \"version\": 1, "
                        + "\"updated_at\": \"1970-01-01T00:00:00.000000Z\"}", "null");

        assertThat(keys.invalidations()).extracting(Invalidation::cacheKey).containsExactly("product:42");
        assertThat(keys.surrogateKeys()).containsExactly("product:42");
    }

    @Test
    void staticAssetMapsToAssetPath() {
        StaleKeys keys = staleKeys("public.static_assets:/img/logo.png", "static_assets", "u",
                "null", "{\"path\": \"/img/logo.png\", \"content_type\": \"image/png\", "
                        + "\"body\": \"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==\", "
                        + "\"surrogate_keys\": [\"__debezium_unavailable_value\"]}");

        assertThat(keys.invalidations()).extracting(Invalidation::cacheKey).containsExactly("asset:/img/logo.png");
        assertThat(keys.invalidations()).extracting(Invalidation::version).containsExactly(-1L);
        assertThat(keys.surrogateKeys()).containsExactly("asset:/img/logo.png");
    }

    @Test
    void staticAssetPathChangeInvalidatesBothPaths() {
        StaleKeys keys = staleKeys(null, "static_assets", "u",
                "{\"path\": \"/img/old.png\"}", "{\"path\": \"/img/new.png\"}");

        assertThat(keys.surrogateKeys()).containsExactly("asset:/img/new.png", "asset:/img/old.png");
    }

    @Test
    void staticAssetDeleteUsesRecordKeyWithColon() {
        StaleKeys keys = staleKeys("public.static_assets:/docs/a:b.txt", "static_assets", "d", "null", "null");

        assertThat(keys.surrogateKeys()).containsExactly("asset:/docs/a:b.txt");
    }

    @Test
    void accountIsInvalidatedButNotPurged() {
        StaleKeys keys = staleKeys(null, "accounts", "u",
                "{\"id\": 5, \"verified\": false}", "{\"id\": 5, \"verified\": true}");

        assertThat(keys.invalidations()).extracting(Invalidation::cacheKey).containsExactly("account:5");
        assertThat(keys.surrogateKeys()).isEmpty();
    }

    @Test
    void placeholderIsNeverAKey() {
        StaleKeys keys = staleKeys("public.static_assets:/a.css", "static_assets", "u",
                "null", "{\"path\": \"__debezium_unavailable_value\"}");

        assertThat(keys.surrogateKeys()).containsExactly("asset:/a.css");
    }
}
