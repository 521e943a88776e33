package dev.backbone.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.embedded.EmbeddedKafka;
import dev.backbone.embedded.EmbeddedPostgresServer;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.Invalidation;
import dev.backbone.events.Json;
import dev.backbone.events.PurgeRequest;
import dev.backbone.events.Settings;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The awkward shapes of change events that PostgreSQL and Debezium produce, each made on the real embedded PostgreSQL
 * and captured by the real Debezium engine. The tables here have {@code REPLICA IDENTITY DEFAULT}, as a table has
 * unless a migration changes it, so updates carry no old image and deletes carry only the primary key.
 */
@ExtendWith(EmbeddedStackExtension.class)
class ChangeShapesIT {

    private static final Logger log = LoggerFactory.getLogger(ChangeShapesIT.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String PLACEHOLDER = InvalidationMapper.UNAVAILABLE_VALUE;
    /** Large enough that PostgreSQL stores the value out of line once the column's storage is EXTERNAL. */
    private static final int TOASTED_LENGTH = 3_000;

    private static final String SCHEMA = """
            CREATE TABLE public.categories (id bigint PRIMARY KEY, name text NOT NULL);
            CREATE TABLE public.products (
                id bigint PRIMARY KEY,
                category_id bigint NOT NULL,
                name text NOT NULL,
                description text NOT NULL DEFAULT '',
                attributes jsonb,
                tags text[],
                price numeric(12, 2) NOT NULL DEFAULT 0,
                launched_at timestamptz,
                version bigint NOT NULL DEFAULT 1,
                updated_at timestamptz NOT NULL DEFAULT now());
            ALTER TABLE public.products ALTER COLUMN description SET STORAGE EXTERNAL;
            ALTER TABLE public.products ALTER COLUMN attributes SET STORAGE EXTERNAL;
            ALTER TABLE public.products ALTER COLUMN tags SET STORAGE EXTERNAL;
            CREATE FUNCTION public.bump_product_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.version := OLD.version + 1;
                NEW.updated_at := now();
                RETURN NEW;
            END $$;
            CREATE TRIGGER products_bump_version BEFORE UPDATE ON public.products
                FOR EACH ROW EXECUTE FUNCTION public.bump_product_version();
            CREATE TABLE public.static_assets (
                path text PRIMARY KEY CHECK (path LIKE '/%'),
                content_type text NOT NULL,
                body bytea NOT NULL,
                surrogate_keys text[] NOT NULL DEFAULT '{}');
            ALTER TABLE public.static_assets ALTER COLUMN body SET STORAGE EXTERNAL;
            ALTER TABLE public.static_assets ALTER COLUMN surrogate_keys SET STORAGE EXTERNAL;
            CREATE TABLE public.accounts (
                id bigint PRIMARY KEY,
                email text NOT NULL UNIQUE,
                display_name text NOT NULL,
                verified boolean NOT NULL DEFAULT false);
            """;

    @TempDir
    static Path offsetDir;

    private static TestDatabase database;
    private static SimpleMeterRegistry registry;
    private static CacheInvalidator invalidator;
    private static TopicRecorder recorder;

    @BeforeAll
    static void startInvalidator(EmbeddedKafka kafka, EmbeddedPostgresServer postgres) throws Exception {
        database = new TestDatabase(postgres.dataSource());
        database.execute(SCHEMA);
        database.execute("INSERT INTO public.categories (id, name) VALUES (10, 'Lamps'), (11, 'Desks')");
        for (long id = 1; id <= 6; id++) {
            insertToastedProduct(id, 10);
        }

        registry = new SimpleMeterRegistry();
        var config = CacheInvalidatorConfig.from(Settings.of(Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "database.port", Integer.toString(postgres.port()),
                "offset.storage.file", offsetDir.resolve("shapes.offsets").toString(),
                "tombstones.on.delete", "true")));
        invalidator = CacheInvalidator.start(config, registry);
        assertThat(invalidator.awaitCapturing(TIMEOUT)).isTrue();
        recorder = new TopicRecorder(kafka.bootstrapServers());
    }

    @AfterAll
    static void stopInvalidator() {
        // Every change here comes from the database, so these lags are real (unlike events that tests produce by hand).
        for (String name : List.of(InvalidatorMetrics.CAPTURE_LAG, InvalidatorMetrics.PUBLISH_LAG, InvalidatorMetrics.PURGE_LAG)) {
            Timer lag = registry.find(name).timer();
            if (lag != null) {
                log.info("{} over {} changes: {}", name, lag.count(), LagSummary.of(lag));
            }
        }
        if (recorder != null) {
            assertNoPlaceholderPublished();
            recorder.close();
        }
        if (invalidator != null) {
            invalidator.close();
        }
    }

    private static void insertToastedProduct(long id, long categoryId) throws Exception {
        database.execute("""
                INSERT INTO public.products (id, category_id, name, description, attributes, tags, price, launched_at)
                VALUES (%d, %d, 'product %d', repeat('d', %d), jsonb_build_object('spec', repeat('j', %d)),
                        array_fill('tag-0123456789'::text, ARRAY[%d]), 10.50, '2024-01-01T00:00:00Z')"""
                .formatted(id, categoryId, id, TOASTED_LENGTH, TOASTED_LENGTH, TOASTED_LENGTH / 10));
    }

    @Test
    void unchangedToastColumnsArriveAsPlaceholder() throws Exception {
        long version = database.returningVersion("UPDATE public.products SET price = 11.25 WHERE id = 1 RETURNING version");

        Invalidation invalidation = awaitFirst(() -> recorder.invalidations("product:1"), i -> i.version() == version);
        JsonNode after = awaitChange("public.products:1", "u", change -> change.path("after").path("version").asLong() == version)
                .path("after");

        assertThat(after.path("description").asText()).isEqualTo(PLACEHOLDER);
        assertThat(after.path("attributes").asText()).isEqualTo(PLACEHOLDER);
        assertThat(after.path("tags").isArray()).isTrue();
        assertThat(after.path("tags").get(0).asText()).isEqualTo(PLACEHOLDER);
        assertThat(after.path("price").asText()).isEqualTo("11.25");
        assertThat(invalidation.operation()).isEqualTo("u");
        awaitFirst(() -> recorder.purges("product:1"), purge -> covers(purge, invalidation.commitAtMs()));
    }

    @Test
    void unchangedToastedAssetArrivesAsPlaceholder() throws Exception {
        database.execute("""
                INSERT INTO public.static_assets (path, content_type, body, surrogate_keys)
                VALUES ('/img/logo.png', 'image/png', convert_to(repeat('b', %d), 'UTF8'),
                        array_fill('product:0123456789'::text, ARRAY[%d]))""".formatted(TOASTED_LENGTH, TOASTED_LENGTH / 10));
        awaitChange("public.static_assets:/img/logo.png", "c", change -> true);

        database.execute("UPDATE public.static_assets SET content_type = 'image/webp' WHERE path = '/img/logo.png'");

        JsonNode after = awaitChange("public.static_assets:/img/logo.png", "u", change -> true).path("after");
        Invalidation invalidation = awaitFirst(() -> recorder.invalidations("asset:/img/logo.png"), i -> i.operation().equals("u"));

        assertThat(after.path("content_type").asText()).isEqualTo("image/webp");
        // bytea arrives as base64 of the placeholder's bytes, and an array as an array holding the placeholder.
        assertThat(after.path("body").asText()).isEqualTo(java.util.Base64.getEncoder().encodeToString(PLACEHOLDER.getBytes()));
        assertThat(after.path("surrogate_keys").get(0).asText()).isEqualTo(PLACEHOLDER);
        assertThat(invalidation.version()).isEqualTo(-1);
        awaitFirst(() -> recorder.purges("asset:/img/logo.png"), purge -> covers(purge, invalidation.commitAtMs()));
    }

    @Test
    void updateWithoutOldImage() throws Exception {
        long version = database.returningVersion("UPDATE public.products SET category_id = 11 WHERE id = 2 RETURNING version");

        Invalidation product = awaitFirst(() -> recorder.invalidations("product:2"), i -> i.version() == version);
        JsonNode change = awaitChange("public.products:2", "u", event -> event.path("after").path("version").asLong() == version);

        assertThat(change.path("before").isNull()).isTrue();
        assertThat(awaitKeysOfCommit(product.commitAtMs(), "u", Set.of("product:2", "category:11")))
                .containsExactlyInAnyOrder("product:2", "category:11");
    }

    @Test
    void deleteWithOnlyKeyThenTombstone() throws Exception {
        double ignoredBefore = ignoredCount();

        database.execute("DELETE FROM public.products WHERE id = 3");

        Invalidation product = awaitFirst(() -> recorder.invalidations("product:3"), i -> i.operation().equals("d"));
        JsonNode change = awaitChange("public.products:3", "d", event -> true);
        log.info("Delete without REPLICA IDENTITY FULL has the old image {}", change.path("before"));
        TopicRecorder.DbChange tombstone = awaitFirst(() -> recorder.dbChanges(),
                record -> "public.products:3".equals(record.key()) && record.value() == null);

        assertThat(change.path("before").path("id").asLong()).isEqualTo(3);
        assertThat(awaitKeysOfCommit(product.commitAtMs(), "d", Set.of("product:3"))).containsExactly("product:3");
        assertThat(tombstone).isNotNull();
        await().atMost(TIMEOUT).until(() -> ignoredCount() > ignoredBefore);
        assertThat(recorder.deadLetters()).isEmpty();
    }

    @Test
    void primaryKeyChangeIsDeleteAndCreate() throws Exception {
        database.execute("UPDATE public.products SET id = 77 WHERE id = 4");

        Invalidation oldKey = awaitFirst(() -> recorder.invalidations("product:4"), i -> i.operation().equals("d"));
        Invalidation newKey = awaitFirst(() -> recorder.invalidations("product:77"), i -> i.operation().equals("c"));

        assertThat(newKey.commitAtMs()).isEqualTo(oldKey.commitAtMs());
        assertThat(newKey.version()).isEqualTo(2);
        assertThat(oldKey.version()).isEqualTo(-1);
        awaitFirst(() -> recorder.invalidations("category:10"), i -> i.commitAtMs() == newKey.commitAtMs());
        awaitFirst(() -> recorder.purges("product:4"), purge -> covers(purge, oldKey.commitAtMs()));
        awaitFirst(() -> recorder.purges("product:77"), purge -> covers(purge, newKey.commitAtMs()));
    }

    @Test
    void transactionOfThousandsOfRows() throws Exception {
        int rows = 3_000;
        long first = 10_000;
        long last = first + rows - 1;
        database.execute("INSERT INTO public.categories (id, name) VALUES (12, 'Bulk')");
        database.execute("""
                INSERT INTO public.products (id, category_id, name, price)
                SELECT n, 12, 'bulk ' || n, 1.00 FROM generate_series(%d, %d) AS n""".formatted(first, last));
        database.execute("UPDATE public.products SET price = price + 1 WHERE id BETWEEN %d AND %d".formatted(first, last));

        Set<String> expected = LongStream.rangeClosed(first, last).mapToObj(id -> "product:" + id).collect(Collectors.toSet());
        Set<String> updated = await().atMost(TIMEOUT).pollInSameThread().pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    recorder.poll();
                    return recorder.allInvalidations().stream()
                            .filter(i -> i.operation().equals("u") && i.version() == 2 && expected.contains(i.cacheKey()))
                            .map(Invalidation::cacheKey)
                            .collect(Collectors.toSet());
                }, found -> found.size() == rows);
        long updateCommitAtMs = recorder.invalidations("product:" + last).stream()
                .filter(i -> i.version() == 2).findFirst().orElseThrow().commitAtMs();
        Set<String> purged = await().atMost(TIMEOUT).pollInSameThread().pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    recorder.poll();
                    return recorder.allPurges().stream()
                            .filter(p -> p.commitAtMs() >= updateCommitAtMs && expected.contains(p.surrogateKey()))
                            .map(PurgeRequest::surrogateKey)
                            .collect(Collectors.toSet());
                }, found -> found.size() == rows);

        assertThat(updated).hasSize(rows);
        assertThat(purged).hasSize(rows);
        // Each insert, and each update without an old image, invalidated category:12; coalescing purged it once per window.
        int categoryInvalidations = recorder.invalidations("category:12").size();
        int categoryPurges = recorder.purges("category:12").size();
        log.info("category:12 was invalidated {} times and purged {} times", categoryInvalidations, categoryPurges);
        assertThat(categoryInvalidations).isGreaterThanOrEqualTo(2 * rows);
        assertThat(categoryPurges).isPositive();
        assertThat(categoryPurges * 50).isLessThan(categoryInvalidations);
    }

    @Test
    void columnAddedMidStream() throws Exception {
        long before = database.returningVersion("UPDATE public.products SET price = 20 WHERE id = 5 RETURNING version");
        awaitFirst(() -> recorder.invalidations("product:5"), i -> i.version() == before);

        database.execute("ALTER TABLE public.products ADD COLUMN color text NOT NULL DEFAULT 'red'");
        long after = database.returningVersion("UPDATE public.products SET color = 'blue' WHERE id = 5 RETURNING version");
        insertToastedProduct(500, 11);

        awaitFirst(() -> recorder.invalidations("product:5"), i -> i.version() == after);
        JsonNode change = awaitChange("public.products:5", "u", event -> event.path("after").path("version").asLong() == after);
        JsonNode insert = awaitChange("public.products:500", "c", event -> true);

        assertThat(change.path("after").path("color").asText()).isEqualTo("blue");
        assertThat(insert.path("after").path("color").asText()).isEqualTo("red");
        awaitFirst(() -> recorder.invalidations("product:500"), i -> i.operation().equals("c"));
        assertThat(recorder.deadLetters()).isEmpty();
    }

    @Test
    void numericTimestampAndEmojiColumns() throws Exception {
        long version = database.returningVersion("""
                UPDATE public.products SET price = 1234567890.99, launched_at = '2024-02-29T12:34:56.789+00',
                name = 'Lampe 💡 für die Küche' WHERE id = 6 RETURNING version""");
        database.execute("INSERT INTO public.static_assets (path, content_type, body) VALUES ('/img/🦊 logo.png', 'image/png', '\\x89504e47')");
        database.execute("UPDATE public.categories SET name = 'Lampen 💡' WHERE id = 10");

        awaitFirst(() -> recorder.invalidations("product:6"), i -> i.version() == version);
        JsonNode after = awaitChange("public.products:6", "u", event -> event.path("after").path("version").asLong() == version)
                .path("after");
        Invalidation asset = awaitFirst(() -> recorder.invalidations("asset:/img/🦊 logo.png"), i -> i.operation().equals("c"));
        awaitFirst(() -> recorder.purges("asset:/img/🦊 logo.png"), purge -> covers(purge, asset.commitAtMs()));
        awaitFirst(() -> recorder.invalidations("category:10"), i -> i.operation().equals("u"));

        assertThat(after.path("price").asText()).isEqualTo("1234567890.99");
        assertThat(Instant.parse(after.path("launched_at").asText())).isEqualTo(Instant.parse("2024-02-29T12:34:56.789Z"));
        assertThat(after.path("name").asText()).isEqualTo("Lampe 💡 für die Küche");
    }

    @Test
    void accountChangeIsInvalidatedNotPurged() throws Exception {
        database.execute("INSERT INTO public.accounts (id, email, display_name) VALUES (1, 'ada@example.com', 'Ada')");
        database.execute("UPDATE public.accounts SET verified = true WHERE id = 1");

        Invalidation update = awaitFirst(() -> recorder.invalidations("account:1"), i -> i.operation().equals("u"));

        assertThat(update.version()).isEqualTo(-1);
        assertThat(recorder.purges("account:1")).isEmpty();
    }

    /**
     * Waits until the invalidations of one commit include {@code expected} and returns every product and category key
     * invalidated for that commit. The keys of one change are published in one acknowledged batch, so a key that
     * should not be there is normally recorded by then.
     */
    private static Set<String> awaitKeysOfCommit(long commitAtMs, String operation, Set<String> expected) {
        return await().atMost(TIMEOUT).pollInSameThread().pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    recorder.poll();
                    return recorder.allInvalidations().stream()
                            .filter(i -> i.commitAtMs() == commitAtMs && i.operation().equals(operation))
                            .map(Invalidation::cacheKey)
                            .filter(key -> key.startsWith("product:") || key.startsWith("category:"))
                            .collect(Collectors.toSet());
                }, found -> found.containsAll(expected));
    }

    /** Returns whether a coalesced purge covers a change committed at {@code commitAtMs}. */
    private static boolean covers(PurgeRequest purge, long commitAtMs) {
        return purge.commitAtMs() <= commitAtMs && purge.requestedAtMs() >= commitAtMs;
    }

    private static double ignoredCount() {
        return registry.get(InvalidatorMetrics.CHANGES_CONSUMED).tag("outcome", "ignored").counter().count();
    }

    private static void assertNoPlaceholderPublished() {
        recorder.poll();
        assertThat(recorder.allInvalidations()).extracting(Invalidation::cacheKey).noneMatch(key -> key.contains(PLACEHOLDER));
        assertThat(recorder.allPurges()).extracting(PurgeRequest::surrogateKey).noneMatch(key -> key.contains(PLACEHOLDER));
        assertThat(recorder.allInvalidations()).isNotEmpty();
    }

    private static JsonNode awaitChange(String key, String operation, Predicate<JsonNode> matches) {
        TopicRecorder.DbChange record = awaitFirst(() -> recorder.dbChanges(), change -> {
            if (!key.equals(change.key()) || change.value() == null) {
                return false;
            }
            JsonNode event = readJson(change.value());
            return event.path("op").asText().equals(operation) && matches.test(event);
        });
        return readJson(record.value());
    }

    private static JsonNode readJson(String text) {
        try {
            return Json.mapper().readTree(text);
        } catch (java.io.IOException e) {
            throw new AssertionError("change event is not JSON: " + e.getMessage(), e);
        }
    }

    private static <T> T awaitFirst(Supplier<List<T>> records, Predicate<T> matches) {
        return await().atMost(TIMEOUT)
                .pollInSameThread()
                .pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    recorder.poll();
                    return records.get().stream().filter(matches).toList();
                }, found -> !found.isEmpty())
                .get(0);
    }
}
