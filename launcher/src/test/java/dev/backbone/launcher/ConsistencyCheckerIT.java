package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.events.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Checks the consistency promise of change data capture. Once a write has committed and the lag bound has passed, no
 * read through any path returns an older version of the row: neither the front door (app-server caches) nor an edge.
 * Writers update a few hot products straight in PostgreSQL and through the API while readers read them through the
 * front door and both edges for a bounded time; then the whole history is checked.
 */
class ConsistencyCheckerIT {

    /** Generous for a shared 2-core CI machine; BENCHMARKS.md has the measured commit-to-eviction and purge lags. */
    private static final long LAG_BOUND_MS = 3_000;
    private static final Duration RUN_TIME = Duration.ofSeconds(10);
    private static final List<Long> HOT_PRODUCTS = List.of(1L, 2L, 3L, 4L);

    /** A committed write: the product reached {@code version} no later than {@code committedByMs}. */
    private record Write(long productId, long version, long committedByMs) {
    }

    /** A read that started at {@code startedAtMs} and returned {@code version} through {@code path}. */
    private record Read(long productId, long version, long startedAtMs, String path, boolean edgeHit) {
    }

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    private final ConcurrentLinkedQueue<Write> writes = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Read> reads = new ConcurrentLinkedQueue<>();
    private final AtomicLong failures = new AtomicLong();

    @Test
    void noReadReturnsOlderVersionAfterLagBound() throws Exception {
        try (LocalStack stack = LocalStack.start(StackOptions.ephemeral(2, 200, 5), step -> { })) {
            String token = stack.mintToken("checker", Duration.ofHours(1));
            Map<String, URI> edges = stack.edgeUris();
            long deadline = System.currentTimeMillis() + RUN_TIME.toMillis();
            List<Thread> threads = new ArrayList<>();
            threads.add(new Thread(() -> sqlWriter(stack.jdbcUrl(), deadline), "sql-writer"));
            threads.add(new Thread(() -> apiWriter(stack.frontDoorUri(), token, deadline), "api-writer"));
            threads.add(new Thread(() -> reader(stack.frontDoorUri(), "front door", deadline), "reader-front-door"));
            edges.forEach((region, uri) -> threads.add(new Thread(() -> reader(uri, "edge " + region, deadline), "reader-" + region)));
            threads.forEach(Thread::start);
            for (Thread thread : threads) {
                thread.join(RUN_TIME.toMillis() + 60_000);
            }

            List<Read> violations = check();
            long edgeReads = reads.stream().filter(read -> read.path().startsWith("edge")).count();
            long edgeHits = reads.stream().filter(Read::edgeHit).count();
            System.out.printf("consistency check: %,d reads checked (%,d through edges, %,d edge hits), %,d writes, "
                    + "lag bound %d ms, %d violations, %d failed requests%n", reads.size(), edgeReads, edgeHits,
                    writes.size(), LAG_BOUND_MS, violations.size(), failures.get());
            violations.stream().limit(10).forEach(read -> System.out.println("  violation: " + read));

            assertThat(writes).hasSizeGreaterThan(20);
            assertThat(reads).hasSizeGreaterThan(100);
            assertThat(edgeReads).isGreaterThan(0);
            assertThat(edgeHits).as("edges served some reads from their cache, so the edge path was checked").isGreaterThan(0);
            assertThat(failures.get()).isZero();
            assertThat(violations).isEmpty();
        }
    }

    /** Returns every read that saw a version older than one committed at least the lag bound before the read started. */
    private List<Read> check() {
        List<Read> violations = new ArrayList<>();
        for (Read read : reads) {
            long newestSettled = writes.stream()
                    .filter(write -> write.productId() == read.productId() && write.committedByMs() + LAG_BOUND_MS <= read.startedAtMs())
                    .mapToLong(Write::version).max().orElse(0);
            if (read.version() < newestSettled) {
                violations.add(read);
            }
        }
        return violations;
    }

    private void sqlWriter(String jdbcUrl, long deadline) {
        try (Connection connection = DriverManager.getConnection(jdbcUrl);
             PreparedStatement update = connection.prepareStatement("UPDATE products SET price_cents = ? WHERE id = ? RETURNING version")) {
            while (System.currentTimeMillis() < deadline) {
                long id = HOT_PRODUCTS.get(ThreadLocalRandom.current().nextInt(HOT_PRODUCTS.size()));
                update.setLong(1, ThreadLocalRandom.current().nextLong(100, 100_000));
                update.setLong(2, id);
                try (ResultSet rs = update.executeQuery()) {
                    rs.next();
                    writes.add(new Write(id, rs.getLong(1), System.currentTimeMillis()));
                }
                pause(40);
            }
        } catch (Exception e) {
            failures.incrementAndGet();
            e.printStackTrace();
        }
    }

    private void apiWriter(URI frontDoor, String token, long deadline) {
        while (System.currentTimeMillis() < deadline) {
            long id = HOT_PRODUCTS.get(ThreadLocalRandom.current().nextInt(HOT_PRODUCTS.size()));
            var request = HttpRequest.newBuilder(frontDoor.resolve("/products/" + id))
                    .header("Host", LocalStack.SITE).header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json").timeout(Duration.ofSeconds(20))
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"priceCents\":" + ThreadLocalRandom.current().nextLong(100, 100_000) + "}"))
                    .build();
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() != 200) {
                    failures.incrementAndGet();
                    System.out.println("write failed: " + response.statusCode() + " " + response.body());
                } else {
                    writes.add(new Write(id, Json.mapper().readTree(response.body()).get("version").asLong(), System.currentTimeMillis()));
                }
            } catch (Exception e) {
                failures.incrementAndGet();
            }
            pause(60);
        }
    }

    private void reader(URI base, String path, long deadline) {
        while (System.currentTimeMillis() < deadline) {
            long id = HOT_PRODUCTS.get(ThreadLocalRandom.current().nextInt(HOT_PRODUCTS.size()));
            long startedAt = System.currentTimeMillis();
            var request = HttpRequest.newBuilder(base.resolve("/products/" + id))
                    .header("Host", LocalStack.SITE).header("X-Client-Id", "reader-" + path.replace(' ', '-'))
                    .timeout(Duration.ofSeconds(20)).GET().build();
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() != 200) {
                    failures.incrementAndGet();
                    System.out.println("read through " + path + " failed: " + response.statusCode() + " " + response.body());
                    continue;
                }
                long version = Json.mapper().readTree(response.body()).get("version").asLong();
                boolean hit = response.headers().firstValue("X-Cache").map("HIT"::equals).orElse(false);
                reads.add(new Read(id, version, startedAt, path, hit));
            } catch (Exception e) {
                failures.incrementAndGet();
            }
            pause(10);
        }
    }

    /** Paces a test loop; the loops are bounded by the run time, not waiting for a condition. */
    private static void pause(long millis) {
        java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(millis).toNanos());
    }
}
