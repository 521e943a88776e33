package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Command-line mistakes get the error, a suggestion where one fits, and a pointer to the help, not the whole help. */
class UsageErrorTest {

    @Test
    void mistypedOptionSuggestsTheRightOne() {
        ConsoleCapture.Result result = ConsoleCapture.run(() -> Backbone.run("serve", "--prot", "80"));

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("error: Unknown options: '--prot', '80'");
        assertThat(result.err()).contains("--products");
        assertThat(result.err()).contains("Run 'backbone serve --help' for the options.");
        assertThat(result.err()).doesNotContain("Usage:");
    }

    @Test
    void invalidValueNamesTheCommand() {
        ConsoleCapture.Result result = ConsoleCapture.run(() -> Backbone.run("demo", "--products", "-5"));

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("--products");
        assertThat(result.err()).contains("Run 'backbone demo --help' for the options.");
        assertThat(result.err()).doesNotContain("Usage:");
    }

    @Test
    void invalidEdgeRegionsAreRejected() {
        // --port 0 and --duration 1 bound the run in case a check ever let the cluster start.
        String[][] cases = {
                {"Mars", "invalid edge region 'Mars'"},
                {"us-east,us-east", "edge region 'us-east' is named twice"},
                {"none,us-east", "has \"none\" among other values"},
                {"none,none", "--edges none,none names \"none\" 2 times"},
        };
        for (String[] edgeCase : cases) {
            ConsoleCapture.Result result = ConsoleCapture.run(() -> Backbone.run("cluster", "--edges", edgeCase[0],
                    "--port", "0", "--duration", "1"));

            assertThat(result.exitCode()).as(edgeCase[0]).isEqualTo(2);
            assertThat(result.err()).as(edgeCase[0]).contains(edgeCase[1]);
            assertThat(result.out()).as(edgeCase[0]).doesNotContain("starting a multi-process cluster");
        }
    }

    @Test
    void edgeWithoutClientsIsWarned() {
        assertThat(ClusterCommand.edgeWarnings(java.util.List.of("us-east", "eu-west"))).isEmpty();
        assertThat(ClusterCommand.edgeWarnings(java.util.List.of("mars"))).as("the first edge is the default edge").isEmpty();
        assertThat(ClusterCommand.edgeWarnings(java.util.List.of("us-east", "mars")))
                .singleElement().asString().contains("region 'mars'").contains("X-Client-Region: mars")
                .contains("the first edge, us-east");
    }
}
