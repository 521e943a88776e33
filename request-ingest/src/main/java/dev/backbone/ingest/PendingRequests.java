package dev.backbone.ingest;

import dev.backbone.events.ClientResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Requests that were published and await their {@link ClientResponse}. Each request completes exactly once: with the
 * first response that arrives, with a 504 when the timeout passes, or with an error response from the front door itself.
 * Thread-safe.
 */
final class PendingRequests {

    private final Map<String, CompletableFuture<ClientResponse>> pending = new ConcurrentHashMap<>();
    private final int maxPending;
    private final long timeoutMs;
    private final String ingestId;
    private final AtomicLong unmatchedResponses = new AtomicLong();
    private final AtomicLong unawaitedResponses = new AtomicLong();

    PendingRequests(int maxPending, long timeoutMs, String ingestId) {
        this.maxPending = maxPending;
        this.timeoutMs = timeoutMs;
        this.ingestId = ingestId;
    }

    /**
     * Registers a request and returns the future of its response, or {@code null} when {@code maxPending} requests
     * already wait. The future completes with a 504 response once the timeout passes.
     */
    CompletableFuture<ClientResponse> register(String requestId) {
        if (pending.size() >= maxPending) {
            return null;
        }
        var future = new CompletableFuture<ClientResponse>();
        pending.put(requestId, future);
        future.completeOnTimeout(gatewayTimeout(requestId), timeoutMs, TimeUnit.MILLISECONDS);
        future.whenComplete((response, error) -> pending.remove(requestId, future));
        return future;
    }

    /** Completes the matching request with a response from Kafka; returns false for an unknown id or one that already has its response. */
    boolean complete(ClientResponse response) {
        // Removed before completing, so the request no longer counts as pending once its client has the response.
        var future = pending.remove(response.requestId());
        if (future == null || !future.complete(response)) {
            unmatchedResponses.incrementAndGet();
            return false;
        }
        return true;
    }

    /** Completes a request with an answer made by the front door itself, such as a 503 when Kafka is unreachable. */
    void fail(String requestId, ClientResponse answer) {
        var future = pending.remove(requestId);
        if (future != null) {
            future.complete(answer);
        }
    }

    int size() {
        return pending.size();
    }

    /** Returns responses that matched no waiting request: late answers after a 504, or duplicates after a failover. */
    long unmatchedResponses() {
        return unmatchedResponses.get();
    }

    /** Counts an answer to a request that nobody waits for, such as a line of a batch. */
    void countUnawaited() {
        unawaitedResponses.incrementAndGet();
    }

    /** Returns the answers read for requests that nobody waits for. */
    long unawaitedResponses() {
        return unawaitedResponses.get();
    }

    private ClientResponse gatewayTimeout(String requestId) {
        return ClientResponse.error(requestId, 504, "gateway_timeout",
                "no response within " + timeoutMs + " ms; set response.timeout.ms to wait longer",
                null, ingestId, System.currentTimeMillis());
    }
}
