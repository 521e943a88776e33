package dev.backbone.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** Invalid options stop the end-to-end benchmark before it starts anything. */
class EndToEndBenchmarkOptionsTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--records|0|--records must be at least 1, was 0",
            "--records|-5|--records must be at least 1, was -5",
            "--http-concurrency|0|--http-requests and --http-concurrency must be at least 1, were 10000 and 0",
            "--http-requests|0|--http-requests and --http-concurrency must be at least 1, were 0 and 64",
            "--latency-seconds|0|--latency-seconds must be at least 1, was 0",
            "--rounds|0|--rounds must be at least 1, was 0",
    })
    void invalidOptionIsAUsageError(String option, String value, String message) {
        var errors = new StringWriter();
        var command = new CommandLine(new EndToEndBenchmark()).setErr(new PrintWriter(errors));

        int exitCode = command.execute(option, value);

        assertThat(exitCode).isEqualTo(CommandLine.ExitCode.USAGE);
        assertThat(errors.toString()).contains(message);
    }
}
