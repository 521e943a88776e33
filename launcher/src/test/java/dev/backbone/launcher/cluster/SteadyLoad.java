package dev.backbone.launcher.cluster;

import dev.backbone.launcher.LocalStack;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * An open-loop GET load through the front door at a fixed rate for a fixed number of requests, recording the outcome
 * of every request. Bounded: it sends exactly {@code count} requests to 127.0.0.1 and waits at most a minute for the
 * last answers.
 */
final class SteadyLoad {

    /** The outcome of one request: its HTTP status (or -1 on a transport error), request id and start offset. */
    record Outcome(int index, long startedAtMs, int status, String requestId, String retryAfter, String error) {
    }

    static {
        if (System.getProperty("jdk.httpclient.allowRestrictedHeaders") == null) {
            System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
        }
    }

    private final URI frontDoor;
    private final double ratePerSecond;
    private final int count;
    private final int products;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<CompletableFuture<Outcome>> outcomes = new ArrayList<>();
    private long startedAtNanos;

    SteadyLoad(URI frontDoor, double ratePerSecond, int count, int products) {
        this.frontDoor = frontDoor;
        this.ratePerSecond = ratePerSecond;
        this.count = count;
        this.products = products;
    }

    /**
     * Sends every request on its schedule. Each hook runs on a thread of its own at its second, so that a slow fault
     * action (stopping a broker takes seconds) does not hold back the requests. All hooks have finished on return.
     */
    List<Outcome> run(Map<Double, Runnable> atSecond) {
        var faults = java.util.concurrent.Executors.newScheduledThreadPool(Math.max(1, atSecond.size()));
        List<java.util.concurrent.ScheduledFuture<?>> scheduled = new ArrayList<>();
        atSecond.forEach((second, hook) ->
                scheduled.add(faults.schedule(hook, (long) (second * 1000), TimeUnit.MILLISECONDS)));
        startedAtNanos = System.nanoTime();
        long intervalNanos = (long) (1e9 / ratePerSecond);
        for (int i = 0; i < count; i++) {
            long intendedAt = startedAtNanos + i * intervalNanos;
            for (long wait = intendedAt - System.nanoTime(); wait > 0; wait = intendedAt - System.nanoTime()) {
                LockSupport.parkNanos(Math.min(wait, 1_000_000L));
            }
            outcomes.add(send(i));
        }
        try {
            for (var hook : scheduled) {
                hook.get(2, TimeUnit.MINUTES);
            }
        } catch (Exception e) {
            throw new IllegalStateException("a fault action failed: " + e, e);
        } finally {
            faults.shutdownNow();
        }
        List<Outcome> all = new ArrayList<>(count);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (CompletableFuture<Outcome> outcome : outcomes) {
            try {
                all.add(outcome.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (Exception e) {
                all.add(new Outcome(all.size(), -1, -1, null, null, "no answer within a minute: " + e));
            }
        }
        return all;
    }

    private CompletableFuture<Outcome> send(int index) {
        long startedAtMs = (System.nanoTime() - startedAtNanos) / 1_000_000;
        HttpRequest request = HttpRequest.newBuilder(frontDoor.resolve("/products/" + (1 + index % products)))
                .header("Host", LocalStack.SITE)
                .header("X-Client-Id", "load-" + (index % 50))
                .timeout(Duration.ofSeconds(30))
                .GET().build();
        return client.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                .thenApply(response -> new Outcome(index, startedAtMs, response.statusCode(),
                        response.headers().firstValue("X-Request-Id").orElse(null),
                        response.headers().firstValue("Retry-After").orElse(null), null))
                .exceptionally(error -> new Outcome(index, startedAtMs, -1, null, null, error.toString()));
    }

    static long count(List<Outcome> outcomes, Predicate<Outcome> filter) {
        return outcomes.stream().filter(filter).count();
    }

    /** Returns a one-line summary: how many requests got each status. */
    static String summary(List<Outcome> outcomes) {
        var byStatus = new TreeMap<Integer, Long>();
        outcomes.forEach(outcome -> byStatus.merge(outcome.status(), 1L, Long::sum));
        StringBuilder line = new StringBuilder(outcomes.size() + " requests:");
        byStatus.forEach((status, n) -> line.append(' ').append(n).append(" × ").append(status == -1 ? "no answer" : status));
        return line.toString();
    }
}
