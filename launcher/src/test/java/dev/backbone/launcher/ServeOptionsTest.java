package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** The checks {@code backbone serve} makes on its options before it starts anything. */
class ServeOptionsTest {

    private static ServeCommand serve(int port, int apiPort, int dashboardPort, int products) {
        var command = new ServeCommand();
        command.port = port;
        command.apiPort = apiPort;
        command.dashboardPort = dashboardPort;
        command.products = products;
        command.categories = 10;
        command.appServers = 2;
        return command;
    }

    @Test
    void freePortsAndSizesPass() {
        assertThat(serve(0, 0, 0, 100).optionProblem()).isNull();
    }

    @Test
    void negativeProductsNamed() {
        assertThat(serve(0, 0, 0, -5).optionProblem())
                .isEqualTo("--products, --categories and --app-servers must be at least 1; got -5, 10 and 2");
    }

    @Test
    void portOutOfRangeNamed() {
        assertThat(serve(70000, 0, 0, 100).optionProblem())
                .isEqualTo("--port 70000 is not a port; use 0 to 65535 (0 picks a free one)");
    }

    @Test
    void busyPortNamesItsOption() throws Exception {
        try (var busy = new ServerSocket()) {
            busy.bind(new InetSocketAddress("127.0.0.1", 0));
            int taken = busy.getLocalPort();

            String problem = serve(0, taken, 0, 100).optionProblem();

            assertThat(problem).startsWith("--api-port " + taken + ": 127.0.0.1:" + taken + " is in use");
            assertThat(problem).endsWith("stop what listens there or choose another port, 0 for a free one");
        }
    }
}
