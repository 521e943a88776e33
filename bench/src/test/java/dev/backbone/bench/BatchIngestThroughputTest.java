package dev.backbone.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class BatchIngestThroughputTest {

    private static final byte[] CALL = ("POST /_backbone/requests HTTP/1.1\r\nHost: shop.example.com\r\nContent-Length: 5\r\n\r\n"
            + "{}\n{}").getBytes(StandardCharsets.US_ASCII);

    @Test
    void connectionReadsLengthAndChunkedResponses() throws Exception {
        List<String> responses = List.of(
                "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"accepted\":2}",
                "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"acc\r\n9;x=y\r\nepted\":2}\r\n0\r\n\r\n",
                "HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        var requests = new CopyOnWriteArrayList<String>();
        try (var server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread serving = serve(server, responses, requests);
            try (var connection = new HttpConnection(URI.create("http://127.0.0.1:" + server.getLocalPort()), 10_000)) {
                HttpConnection.Response first = connection.call(CALL);
                HttpConnection.Response second = connection.call(CALL);
                HttpConnection.Response third = connection.call(CALL);

                assertThat(first.status()).isEqualTo(202);
                assertThat(BatchIngestThroughput.acceptedCount(first.body())).isEqualTo(2);
                assertThat(first.closed()).isFalse();
                assertThat(new String(second.body(), StandardCharsets.UTF_8)).isEqualTo("{\"accepted\":2}");
                assertThat(third.status()).isEqualTo(400);
                assertThat(third.closed()).isTrue();
            }
            serving.join(5_000);
        }
        assertThat(requests).hasSize(3).allSatisfy(request -> assertThat(request).endsWith("\r\n\r\n{}\n{}"));
    }

    @Test
    void responseWithoutLengthIsAnError() throws Exception {
        try (var server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            serve(server, List.of("HTTP/1.1 202 Accepted\r\n\r\n{}"), new CopyOnWriteArrayList<>());
            try (var connection = new HttpConnection(URI.create("http://127.0.0.1:" + server.getLocalPort()), 10_000)) {
                assertThatThrownBy(() -> connection.call(CALL)).isInstanceOf(IOException.class)
                        .hasMessageContaining("neither Content-Length nor chunked");
            }
        }
    }

    @Test
    void onlyPlainHttpOnLoopbackIsAccepted() {
        assertThatThrownBy(() -> new BatchIngestThroughput(URI.create("http://example.com:8080/"), 10, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("example.com");
        assertThatThrownBy(() -> new BatchIngestThroughput(URI.create("https://127.0.0.1:8443/"), 10, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** Serves one connection: reads each request whole and writes the next canned response. */
    static Thread serve(ServerSocket server, List<String> responses, List<String> requests) {
        Thread thread = new Thread(() -> {
            try (var socket = server.accept()) {
                InputStream in = new BufferedInputStream(socket.getInputStream());
                for (String response : responses) {
                    requests.add(readRequest(in));
                    socket.getOutputStream().write(response.getBytes(StandardCharsets.US_ASCII));
                    socket.getOutputStream().flush();
                }
            } catch (IOException e) {
                requests.add("server failed: " + e);
            }
        }, "batch-client-test-server");
        thread.start();
        return thread;
    }

    /** Reads one request, head and Content-Length body, from a socket the test accepted. */
    static String readRequestFrom(Socket socket) throws IOException {
        return readRequest(new BufferedInputStream(socket.getInputStream()));
    }

    private static String readRequest(InputStream in) throws IOException {
        var head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed before the end of the request head");
            }
            head.append((char) c);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring("content-length:".length()).trim());
            }
        }
        return head + new String(in.readNBytes(length), StandardCharsets.US_ASCII);
    }
}
