package dev.backbone.launcher;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * A closed-loop HTTP workload against a front door: Zipf-distributed product reads and a share of price updates,
 * from many simulated clients in several regions, with at most {@code concurrency} requests in flight.
 */
public final class Workload {

    /**
     * What to send.
     *
     * @param requests     total requests
     * @param concurrency  requests in flight at most
     * @param writeRatio   share of requests that are PUTs, from 0 to 1
     * @param zipfExponent skew of product popularity; 0 is uniform
     * @param products     product ids are 1..products
     * @param clients      distinct client ids
     * @param seed         random seed, for a repeatable request sequence
     */
    public record Options(int requests, int concurrency, double writeRatio, double zipfExponent, int products, int clients, long seed) {
    }

    /** The client regions of the demo's requests, which are also those of the load generator's default region mix. */
    static final List<String> REGIONS = List.of("us-east", "us-west", "eu-west", "ap-south");
    private static final Map<String, String> COUNTRY_OF_REGION = Map.of(
            "us-east", "US", "us-west", "US", "eu-west", "DE", "ap-south", "IN");

    private final URI base;
    private final String host;
    private final Options options;
    private final HttpClient client;
    private final String bearerToken;

    /**
     * @param bearerToken token sent with every write as {@code Authorization: Bearer}, or null to send none (the app
     *                    servers then reject writes with 401)
     */
    public Workload(URI base, String host, Options options, String bearerToken) {
        this.base = base;
        this.host = host;
        this.options = options;
        this.bearerToken = bearerToken;
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();
    }

    /** Runs the workload to the end and prints a progress line to {@code progress} about once a second. */
    public RunResult run(PrintStream progress) throws InterruptedException {
        var zipf = new ZipfDistribution(options.products(), options.zipfExponent());
        var random = new SplittableRandom(options.seed());
        var inFlight = new Semaphore(options.concurrency());
        var recorder = new Recorder(3);
        var statusCounts = new ConcurrentHashMap<Integer, LongAdder>();
        var writesAccepted = new LongAdder();
        var completed = new AtomicLong();
        long startedAt = System.nanoTime();
        long nextProgressAt = startedAt + 1_000_000_000L;

        for (int i = 0; i < options.requests(); i++) {
            inFlight.acquire();
            boolean write = random.nextDouble() < options.writeRatio();
            int productId = zipf.sample(random);
            int clientNumber = random.nextInt(options.clients());
            String region = REGIONS.get(clientNumber % REGIONS.size());
            HttpRequest request = request(write, productId, clientNumber, region, random);
            long sentAt = System.nanoTime();
            client.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
                recorder.recordValue(Math.max(1, (System.nanoTime() - sentAt) / 1_000));
                int status = error != null ? 0 : response.statusCode();
                statusCounts.computeIfAbsent(status, s -> new LongAdder()).increment();
                if (write && status == 200) {
                    writesAccepted.increment();
                }
                completed.incrementAndGet();
                inFlight.release();
            });
            long now = System.nanoTime();
            if (now >= nextProgressAt) {
                printProgress(progress, completed.get(), statusCounts, now - startedAt);
                nextProgressAt = now + 1_000_000_000L;
            }
        }
        inFlight.acquire(options.concurrency());
        long elapsed = System.nanoTime() - startedAt;
        printProgress(progress, completed.get(), statusCounts, elapsed);

        Map<Integer, Long> counts = new TreeMap<>();
        statusCounts.forEach((status, adder) -> counts.put(status, adder.sum()));
        return new RunResult(options.requests(), counts, writesAccepted.sum(), Duration.ofNanos(elapsed), recorder.getIntervalHistogram());
    }

    private HttpRequest request(boolean write, int productId, int clientNumber, String region, SplittableRandom random) {
        var builder = HttpRequest.newBuilder(base.resolve("/products/" + productId))
                .timeout(Duration.ofSeconds(30))
                .header("Host", host)
                .header("X-Client-Id", "client-" + clientNumber)
                .header("X-Client-Region", region)
                .header("X-Client-Country", COUNTRY_OF_REGION.get(region));
        if (write) {
            long priceCents = 100 + random.nextInt(100_000);
            if (bearerToken != null) {
                builder.header("Authorization", "Bearer " + bearerToken);
            }
            return builder.header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"priceCents\":" + priceCents + "}")).build();
        }
        return builder.GET().build();
    }

    private void printProgress(PrintStream out, long done, Map<Integer, LongAdder> statusCounts, long elapsedNanos) {
        long errors = statusCounts.entrySet().stream().filter(e -> e.getKey() == 0 || e.getKey() >= 500)
                .mapToLong(e -> e.getValue().sum()).sum();
        double seconds = elapsedNanos / 1e9;
        out.printf("progress: %,d/%,d requests (%.0f%%), %,.0f req/s, %,d errors (5xx or failed), %.1f s%n",
                done, options.requests(), 100.0 * done / options.requests(), done / Math.max(seconds, 1e-9), errors, seconds);
    }
}
