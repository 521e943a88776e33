package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The open-loop runner's report of requests that got no response. */
class OpenLoopRunnerTest {

    private static final RequestSender.Request READ =
            new RequestSender.Request("GET", "/products/1", "shop.example.com", "client-1", "us-east", "US", null);

    @Test
    void failedRequestsNameTheirCause() throws Exception {
        RequestSender refused = new RequestSender() {
            @Override
            public CompletableFuture<Integer> send(Request request) {
                return CompletableFuture.failedFuture(new CompletionException(new ConnectException("Connection refused")));
            }

            @Override
            public void close() {
            }
        };
        var output = new ByteArrayOutputStream();

        RunResult result = new OpenLoopRunner(refused, 4, new PrintStream(output, true, StandardCharsets.UTF_8))
                .run(List.of(new OpenLoopRunner.Scheduled(0, READ, false), new OpenLoopRunner.Scheduled(0, READ, false))
                        .iterator(), 2);

        assertThat(result.count(0, 0)).as("requests without a response").isEqualTo(2);
        assertThat(output.toString(StandardCharsets.UTF_8))
                .contains("First failed request: ConnectException: Connection refused");
    }
}
