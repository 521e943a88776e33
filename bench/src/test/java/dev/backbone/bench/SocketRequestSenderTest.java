package dev.backbone.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.backbone.launcher.RequestSender;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SocketRequestSenderTest {

    @Test
    void sendsHeadersOverOneConnection() throws Exception {
        var requests = new CopyOnWriteArrayList<String>();
        try (var server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread serving = BatchIngestThroughputTest.serve(server, List.of(
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
                    "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"), requests);
            try (var sender = new SocketRequestSender(URI.create("http://127.0.0.1:" + server.getLocalPort()), 1)) {
                int first = sender.send(new RequestSender.Request("GET", "/products/7", "shop.example.com", "client-1",
                        "eu-west", "DE", null)).get(10, TimeUnit.SECONDS);
                int second = sender.send(new RequestSender.Request("POST", "/cart", "shop.example.com", "client-2",
                        "us-east", "US", "{\"sku\":\"ü\"}")).get(10, TimeUnit.SECONDS);

                assertThat(first).isEqualTo(200);
                assertThat(second).isEqualTo(404);
            }
            serving.join(5_000);
        }
        // serve() accepts one connection only, so both requests came over the same one.
        assertThat(requests).containsExactly(
                "GET /products/7 HTTP/1.1\r\nHost: shop.example.com\r\nX-Client-Id: client-1\r\nX-Client-Region: eu-west\r\n"
                        + "X-Client-Country: DE\r\n\r\n",
                "POST /cart HTTP/1.1\r\nHost: shop.example.com\r\nX-Client-Id: client-2\r\nX-Client-Region: us-east\r\n"
                        + "X-Client-Country: US\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n"
                        + new String("{\"sku\":\"ü\"}".getBytes(StandardCharsets.UTF_8), StandardCharsets.US_ASCII));
    }

    @Test
    void brokenConnectionFailsOneRequest() throws Exception {
        try (var server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread serving = new Thread(() -> {
                try {
                    server.accept().close();
                    var second = server.accept();
                    BatchIngestThroughputTest.readRequestFrom(second);
                    second.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    second.close();
                } catch (IOException e) {
                    // The assertions below fail when the server could not respond.
                }
            });
            serving.start();
            try (var sender = new SocketRequestSender(URI.create("http://127.0.0.1:" + server.getLocalPort()), 1)) {
                var request = new RequestSender.Request("GET", "/", "shop.example.com", "c", "eu-west", "DE", null);
                assertThatThrownBy(() -> sender.send(request).get(10, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(IOException.class);
                assertThat(sender.send(request).get(10, TimeUnit.SECONDS)).isEqualTo(200);
            }
            serving.join(5_000);
        }
    }

    @Test
    void onlyPlainHttpOnLoopbackIsAccepted() {
        assertThatThrownBy(() -> new SocketRequestSender(URI.create("http://example.com:8080/"), 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("example.com");
        assertThatThrownBy(() -> new SocketRequestSender(URI.create("http://127.0.0.1:8080/"), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1");
    }
}
