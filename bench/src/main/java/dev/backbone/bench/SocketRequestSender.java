package dev.backbone.bench;

import dev.backbone.launcher.RequestSender;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Sends workload requests to a front door over a fixed set of keep-alive HTTP/1.1 connections, each with a thread
 * that writes a request and waits for its response. The fixed-rate latency runs use it instead of
 * {@code java.net.http.HttpClient}, whose selector and worker threads hand every response from thread to thread and
 * took about a tenth of the CPU of a 500 requests/s run on 2 cores (async-profiler). Requests wait in a queue while
 * every connection is busy; an open-loop runner counts that wait, since it measures from each request's intended send
 * time.
 */
final class SocketRequestSender implements RequestSender {

    private static final int TIMEOUT_MS = 30_000;
    private static final Pending STOP = new Pending(null, null);

    private final URI server;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final List<Thread> threads = new ArrayList<>();

    /** @param connections number of connections, which is also the maximum of requests in flight */
    SocketRequestSender(URI server, int connections) {
        HttpConnection.requireLoopback(server, "the socket sender");
        if (connections < 1) {
            throw new IllegalArgumentException("connections must be at least 1, got " + connections);
        }
        this.server = server;
        for (int i = 0; i < connections; i++) {
            Thread thread = new Thread(this::serve, "bench-http-sender-" + i);
            thread.setDaemon(true);
            thread.start();
            threads.add(thread);
        }
    }

    @Override
    public CompletableFuture<Integer> send(Request request) {
        var future = new CompletableFuture<Integer>();
        queue.add(new Pending(bytes(request), future));
        return future;
    }

    /** Returns the request as it goes on the wire, with the headers that {@code HttpRequestSender} sends but no token. */
    static byte[] bytes(Request request) {
        byte[] body = request.body() == null ? new byte[0] : request.body().getBytes(StandardCharsets.UTF_8);
        var head = new StringBuilder(256)
                .append(request.method()).append(' ').append(request.path()).append(" HTTP/1.1\r\n")
                .append("Host: ").append(request.host()).append("\r\n")
                .append("X-Client-Id: ").append(request.clientId()).append("\r\n")
                .append("X-Client-Region: ").append(request.region()).append("\r\n")
                .append("X-Client-Country: ").append(request.country()).append("\r\n");
        if (request.body() != null) {
            head.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        var wire = new ByteArrayOutputStream(head.length() + body.length);
        wire.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
        wire.writeBytes(body);
        return wire.toByteArray();
    }

    /** Takes requests off the queue and sends each on this thread's connection until {@link #close()}. */
    private void serve() {
        HttpConnection connection = null;
        try {
            for (Pending pending = queue.take(); pending != STOP; pending = queue.take()) {
                try {
                    if (connection == null) {
                        connection = new HttpConnection(server, TIMEOUT_MS);
                    }
                    HttpConnection.Response response = connection.call(pending.request());
                    if (response.closed()) {
                        connection.close();
                        connection = null;
                    }
                    pending.future().complete(response.status());
                } catch (IOException | RuntimeException e) {
                    if (connection != null) {
                        connection.close();
                        connection = null;
                    }
                    pending.future().completeExceptionally(e);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (connection != null) {
                connection.close();
            }
        }
    }

    /** Stops every thread once the requests queued before this call were sent. */
    @Override
    public void close() {
        threads.forEach(thread -> queue.add(STOP));
        for (Thread thread : threads) {
            try {
                thread.join(TIMEOUT_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private record Pending(byte[] request, CompletableFuture<Integer> future) {
    }
}
