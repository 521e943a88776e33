package dev.backbone.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sends request lines to the front door's batch endpoint ({@code POST /_backbone/requests}) with a fixed number of
 * calls in flight and measures the lines it accepted per second, from the first call to the last answer.
 */
final class BatchIngestThroughput {

    /** Distinct batch bodies sent in turn; building every batch up front would hold the whole run in memory. */
    private static final int DISTINCT_BODIES = 20;

    private final URI endpoint;
    private final int batchSize;
    private final int inFlight;
    private final byte[][] bodies;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    BatchIngestThroughput(URI frontDoor, int batchSize, int inFlight) {
        this.endpoint = frontDoor.resolve("/_backbone/requests");
        this.batchSize = batchSize;
        this.inFlight = inFlight;
        this.bodies = new byte[DISTINCT_BODIES][];
        for (int b = 0; b < DISTINCT_BODIES; b++) {
            var body = new StringBuilder();
            for (int i = 0; i < batchSize; i++) {
                int n = b * batchSize + i;
                // The same fields as the raw producer's request-sized records: a product read of one of 1,000 clients.
                body.append("{\"path\":\"/products/").append(1 + n % 10_000).append("\",\"clientId\":\"client-")
                        .append(n % 1000).append("\",\"region\":\"eu-west\",\"country\":\"DE\",\"headers\":{\"accept\":\"*/*\"}}\n");
            }
            bodies[b] = body.toString().getBytes(StandardCharsets.UTF_8);
        }
    }

    /**
     * Sends {@code lines} request lines, rounded up to whole batches, and returns the lines accepted per second.
     *
     * @throws IllegalStateException when a call fails or a line is not accepted
     */
    double run(int lines) throws InterruptedException {
        int batches = (lines + batchSize - 1) / batchSize;
        var slots = new Semaphore(inFlight);
        var accepted = new AtomicLong();
        var failure = new AtomicReference<String>();
        long startedAt = System.nanoTime();
        for (int b = 0; b < batches && failure.get() == null; b++) {
            slots.acquire();
            var request = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(60))
                    .header("Host", "shop.example.com").header("Content-Type", "application/x-ndjson")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(bodies[b % DISTINCT_BODIES])).build();
            http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).whenComplete((response, error) -> {
                try {
                    if (error != null) {
                        failure.compareAndSet(null, error.toString());
                    } else if (response.statusCode() != 202) {
                        failure.compareAndSet(null, "status " + response.statusCode() + ": " + head(response.body()));
                    } else {
                        accepted.addAndGet(acceptedCount(response.body()));
                    }
                } finally {
                    slots.release();
                }
            });
        }
        if (!slots.tryAcquire(inFlight, 2, TimeUnit.MINUTES)) {
            throw new IllegalStateException("batch calls did not finish within 2 minutes");
        }
        double seconds = (System.nanoTime() - startedAt) / 1e9;
        if (failure.get() != null) {
            throw new IllegalStateException("a batch call failed: " + failure.get());
        }
        if (accepted.get() != (long) batches * batchSize) {
            throw new IllegalStateException("accepted " + accepted.get() + " of " + (long) batches * batchSize + " lines");
        }
        return accepted.get() / seconds;
    }

    /** Reads {@code "accepted": N} from the start of an answer without parsing the per-line results after it. */
    static long acceptedCount(byte[] body) {
        String head = head(body);
        String field = "\"accepted\":";
        int at = head.indexOf(field);
        if (at < 0) {
            throw new IllegalStateException("no accepted count in " + head);
        }
        int end = at + field.length();
        while (end < head.length() && Character.isDigit(head.charAt(end))) {
            end++;
        }
        return Long.parseLong(head.substring(at + field.length(), end));
    }

    private static String head(byte[] body) {
        return new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8);
    }
}
