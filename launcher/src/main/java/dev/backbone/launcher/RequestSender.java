package dev.backbone.launcher;

import java.util.concurrent.CompletableFuture;

/**
 * Sends one request of a workload and completes with its outcome. Implementations are thread-safe; {@link #close()}
 * releases their clients.
 */
public interface RequestSender extends AutoCloseable {

    /**
     * One request to send.
     *
     * @param method   HTTP method
     * @param path     path and optional query, starting with /
     * @param host     site name for the Host header
     * @param clientId client id
     * @param region   client region
     * @param country  client country code
     * @param body     request body, or null
     */
    record Request(String method, String path, String host, String clientId, String region, String country, String body) {
    }

    /** Sends the request and completes with the HTTP status of the response, or with 202 once Kafka acknowledged an event. */
    CompletableFuture<Integer> send(Request request);

    @Override
    void close();
}
