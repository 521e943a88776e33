package dev.backbone.launcher;

import dev.backbone.appserver.TokenSigner;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code backbone token}: mints a bearer token for the app servers' protected endpoints and prints it. */
@Command(name = "token", mixinStandardHelpOptions = true,
        description = {"Mints a bearer token signed with the app servers' auth.secret and prints it on one line, for "
                + "Authorization: Bearer TOKEN on writes, account reads and protected static assets.",
                "The secret is read from an environment variable, never from the command line, so that it does not "
                + "show in the shell history or the process list."})
final class TokenCommand implements Callable<Integer> {

    private static final Pattern ENVIRONMENT_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    @Option(names = "--subject", required = true, description = "The subject (sub) of the token, such as a user name.")
    String subject;

    @Option(names = "--ttl", defaultValue = "3600", description = "Seconds until the token expires (default: ${DEFAULT-VALUE}).")
    long ttlSeconds;

    @Option(names = "--secret-env", defaultValue = "BACKBONE_AUTH_SECRET", paramLabel = "NAME",
            description = "Environment variable holding the secret, at least " + TokenSigner.MIN_SECRET_BYTES
                    + " bytes as UTF-8 (default: ${DEFAULT-VALUE}).")
    String secretEnvironment;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The environment, replaceable in tests. */
    Map<String, String> environment = System.getenv();

    @Override
    public Integer call() {
        if (ttlSeconds < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--ttl must be at least 1 second, got " + ttlSeconds);
        }
        if (subject.isBlank() || subject.length() > TokenSigner.MAX_SUBJECT_LENGTH) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--subject must be 1 to "
                    + TokenSigner.MAX_SUBJECT_LENGTH + " characters and not blank");
        }
        if (!ENVIRONMENT_NAME.matcher(secretEnvironment).matches()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--secret-env " + secretEnvironment
                    + " is not an environment variable name; accepted: letters, digits and '_', not starting with a digit");
        }
        String secret = environment.get(secretEnvironment);
        if (secret == null || secret.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "environment variable " + secretEnvironment
                    + " is not set; export the app servers' auth.secret there, such as: export " + secretEnvironment
                    + "=\"$(openssl rand -base64 32)\"");
        }
        byte[] secretBytes = secret.getBytes(StandardCharsets.UTF_8);
        if (secretBytes.length < TokenSigner.MIN_SECRET_BYTES) {
            // The length only: the secret itself never goes to the terminal.
            throw new CommandLine.ParameterException(spec.commandLine(), "environment variable " + secretEnvironment
                    + " holds " + secretBytes.length + " bytes; accepted: at least " + TokenSigner.MIN_SECRET_BYTES + " bytes");
        }
        String token = new TokenSigner(secretBytes).mint(subject, Duration.ofSeconds(ttlSeconds));
        spec.commandLine().getOut().println(token);
        return 0;
    }
}
