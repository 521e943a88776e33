package dev.backbone.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sends request lines to the front door's batch endpoint ({@code POST /_backbone/requests}) with a fixed number of
 * calls in flight and measures the lines it accepted per second, from the first call to the last response.
 *
 * <p>Each call in flight has a thread and a keep-alive HTTP/1.1 connection that writes prebuilt request bytes and
 * reads the response. The load generator shares the machine with the front door and the broker, so it should cost
 * little: with {@code java.net.http.HttpClient}, its threads took about an eighth of the CPU that the batch rounds
 * used besides the JIT compiler (async-profiler, 2 cores).
 */
final class BatchIngestThroughput {

    /** Distinct batch bodies sent in turn; building every batch up front would hold the whole run in memory. */
    private static final int DISTINCT_BODIES = 20;
    private static final int TIMEOUT_MS = 60_000;

    private final URI endpoint;
    private final int batchSize;
    private final int inFlight;
    private final byte[][] calls;

    BatchIngestThroughput(URI frontDoor, int batchSize, int inFlight) {
        HttpConnection.requireLoopback(frontDoor, "the batch load");
        this.endpoint = frontDoor;
        this.batchSize = batchSize;
        this.inFlight = inFlight;
        this.calls = new byte[DISTINCT_BODIES][];
        for (int b = 0; b < DISTINCT_BODIES; b++) {
            var body = new StringBuilder();
            for (int i = 0; i < batchSize; i++) {
                int n = b * batchSize + i;
                // The same fields as the raw producer's request-sized records: a product read of one of 1,000 clients.
                body.append("{\"path\":\"/products/").append(1 + n % 10_000).append("\",\"clientId\":\"client-")
                        .append(n % 1000).append("\",\"region\":\"eu-west\",\"country\":\"DE\",\"headers\":{\"accept\":\"*/*\"}}\n");
            }
            byte[] bodyBytes = body.toString().getBytes(StandardCharsets.UTF_8);
            byte[] head = ("POST /_backbone/requests HTTP/1.1\r\nHost: shop.example.com\r\n"
                    + "Content-Type: application/x-ndjson\r\nContent-Length: " + bodyBytes.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            var call = new ByteArrayOutputStream(head.length + bodyBytes.length);
            call.writeBytes(head);
            call.writeBytes(bodyBytes);
            calls[b] = call.toByteArray();
        }
    }

    /**
     * Sends {@code lines} request lines, rounded up to whole batches, and returns the lines accepted per second.
     *
     * @throws IllegalStateException when a call fails or a line is not accepted
     */
    double run(int lines) throws InterruptedException {
        int batches = (lines + batchSize - 1) / batchSize;
        var next = new AtomicInteger();
        var accepted = new AtomicLong();
        var failure = new AtomicReference<String>();
        var senders = new ArrayList<Thread>();
        long startedAt = System.nanoTime();
        for (int t = 0; t < inFlight; t++) {
            Thread sender = new Thread(() -> send(batches, next, accepted, failure), "bench-batch-sender-" + t);
            sender.start();
            senders.add(sender);
        }
        for (Thread sender : senders) {
            sender.join();
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

    /** Sends batches over one connection until all are taken or a call failed. */
    private void send(int batches, AtomicInteger next, AtomicLong accepted, AtomicReference<String> failure) {
        HttpConnection connection = null;
        try {
            for (int b = next.getAndIncrement(); b < batches && failure.get() == null; b = next.getAndIncrement()) {
                if (connection == null) {
                    connection = new HttpConnection(endpoint, TIMEOUT_MS);
                }
                HttpConnection.Response response = connection.call(calls[b % DISTINCT_BODIES]);
                if (response.status() != 202) {
                    failure.compareAndSet(null, "status " + response.status() + ": " + head(response.body()));
                    return;
                }
                accepted.addAndGet(acceptedCount(response.body()));
                if (response.closed()) {
                    connection.close();
                    connection = null;
                }
            }
        } catch (IOException | RuntimeException e) {
            failure.compareAndSet(null, e.toString());
        } finally {
            if (connection != null) {
                connection.close();
            }
        }
    }

    /** Reads {@code "accepted": N} from the start of a response without parsing the per-line results after it. */
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
