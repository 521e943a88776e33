package dev.backbone.launcher;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/** Runs a command while copying standard output and error into strings, still showing them in the test log. */
final class ConsoleCapture {

    /**
     * What a command printed and returned.
     *
     * @param exitCode the command's exit code
     * @param out      standard output
     * @param err      standard error
     */
    record Result(int exitCode, String out, String err) {
    }

    private ConsoleCapture() {
    }

    static synchronized Result run(IntSupplier command) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int exitCode;
        try (var teeOut = new PrintStream(new Tee(originalOut, out), true, StandardCharsets.UTF_8);
             var teeErr = new PrintStream(new Tee(originalErr, err), true, StandardCharsets.UTF_8)) {
            System.setOut(teeOut);
            System.setErr(teeErr);
            exitCode = command.getAsInt();
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
        return new Result(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static final class Tee extends OutputStream {
        private final OutputStream first;
        private final OutputStream second;

        Tee(OutputStream first, OutputStream second) {
            this.first = first;
            this.second = second;
        }

        @Override
        public void write(int b) throws java.io.IOException {
            first.write(b);
            second.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws java.io.IOException {
            first.write(b, off, len);
            second.write(b, off, len);
        }
    }
}
