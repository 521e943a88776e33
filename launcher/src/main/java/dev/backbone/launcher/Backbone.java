package dev.backbone.launcher;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code backbone} command. */
@Command(name = "backbone", mixinStandardHelpOptions = true, version = "backbone 0.1.0",
        description = "Runs Backbone, the request path of a consumer web application as an event-sourced Kafka pipeline.",
        subcommands = {DemoCommand.class, ServeCommand.class, ClusterCommand.class, LoadCommand.class, ReplayCommand.class, DnsCommand.class,
                TokenCommand.class, QueryCommand.class, DlqCommand.class})
public final class Backbone implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // The workload and the readiness probe send the Host header that names the site; java.net.http restricts it.
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code, without exiting; tests call this. */
    public static int run(String... args) {
        return new CommandLine(new Backbone())
                .setExecutionExceptionHandler(Backbone::reportFailure)
                .setParameterExceptionHandler(Backbone::reportUsageError)
                .execute(args);
    }

    /** Prints a command-line error, suggestions for a mistyped option, and where the options are listed, without the full help. */
    private static int reportUsageError(CommandLine.ParameterException error, String[] args) {
        CommandLine commandLine = error.getCommandLine();
        var err = commandLine.getErr();
        err.println("error: " + error.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(error, err);
        String command = commandLine.getCommandSpec().qualifiedName();
        // A subcommand that raises the error from its own call() may report its name without the parent's.
        err.println("Run '" + (command.startsWith("backbone") ? command : "backbone " + command) + " --help' for the options.");
        return commandLine.getCommandSpec().exitCodeOnInvalidInput();
    }

    /**
     * Prints a failed command's error as one line per cause instead of a stack trace, and returns exit code 1. The
     * stack trace follows only when {@code BACKBONE_LOG_LEVEL} is DEBUG or TRACE.
     */
    private static int reportFailure(Exception error, CommandLine commandLine, CommandLine.ParseResult parseResult) {
        var err = commandLine.getErr();
        err.println("error: " + error.getMessage());
        for (Throwable cause = error.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            if (cause.getMessage() != null && !String.valueOf(error.getMessage()).contains(cause.getMessage())) {
                err.println("  caused by: " + cause.getMessage());
            }
        }
        String level = System.getenv("BACKBONE_LOG_LEVEL");
        if ("DEBUG".equalsIgnoreCase(level) || "TRACE".equalsIgnoreCase(level)) {
            error.printStackTrace(err);
        } else {
            err.println("(set BACKBONE_LOG_LEVEL=DEBUG for the stack trace)");
        }
        return 1;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command; try 'backbone demo' or 'backbone serve'");
    }
}
