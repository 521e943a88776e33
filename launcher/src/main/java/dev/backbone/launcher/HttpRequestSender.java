package dev.backbone.launcher;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** Sends workload requests over HTTP to a front door. */
public final class HttpRequestSender implements RequestSender {

    private final URI base;
    private final HttpClient client;
    private final Duration timeout;
    private final String bearerToken;

    /** @param bearerToken token sent with every request that has a body, or null to send none */
    public HttpRequestSender(URI base, Duration timeout, String bearerToken) {
        this.base = base;
        this.timeout = timeout;
        this.bearerToken = bearerToken;
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();
    }

    @Override
    public CompletableFuture<Integer> send(Request request) {
        HttpRequest.BodyPublisher body = request.body() == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(request.body());
        var builder = HttpRequest.newBuilder(base.resolve(request.path()))
                .timeout(timeout)
                .header("Host", request.host())
                .header("X-Client-Id", request.clientId())
                .header("X-Client-Region", request.region())
                .header("X-Client-Country", request.country())
                .method(request.method(), body);
        if (request.body() != null) {
            builder.header("Content-Type", "application/json");
            if (bearerToken != null) {
                builder.header("Authorization", "Bearer " + bearerToken);
            }
        }
        return client.sendAsync(builder.build(), HttpResponse.BodyHandlers.discarding()).thenApply(HttpResponse::statusCode);
    }

    @Override
    public void close() {
        // java.net.http.HttpClient on Java 17 has no close(); its threads end when it is unreachable.
    }
}
