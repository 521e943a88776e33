package dev.backbone.launcher;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import dev.backbone.events.DeadLetter;
import dev.backbone.events.Topic;
import dev.backbone.events.Topics;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code backbone dlq}: lists the records in {@code backbone.dead-letters} and replays selected ones to the topic they
 * came from. Each subcommand exits with 0 on success, with 1 when Kafka cannot be reached or the selection matches no
 * dead letter, after one line saying why, and with picocli's usage error code 2 for an invalid command line.
 */
@Command(name = "dlq", mixinStandardHelpOptions = true,
        description = "Lists and replays the records that consumers could not process (backbone.dead-letters).",
        subcommands = {DlqCommand.ListLetters.class, DlqCommand.Replay.class})
final class DlqCommand implements Runnable {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing subcommand; try 'backbone dlq list' or 'backbone dlq replay --help'");
    }

    /** Options every subcommand shares. */
    static final class KafkaOptions {

        @Option(names = "--bootstrap-servers", defaultValue = "${env:BACKBONE_BOOTSTRAP_SERVERS:-127.0.0.1:9092}",
                paramLabel = "HOST:PORT", description = "Kafka bootstrap servers, such as the address 'backbone serve' "
                + "prints (default: the environment variable BACKBONE_BOOTSTRAP_SERVERS, else 127.0.0.1:9092).")
        String bootstrapServers;

        @Option(names = "--timeout", defaultValue = "10", paramLabel = "SECONDS",
                description = "How long to wait for Kafka at each step, in seconds (default: ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Option(names = "--consumer", paramLabel = "NAME",
                description = "Only dead letters written by this consumer, such as backbone-routing (default: any).")
        String consumer;
    }

    /** A subcommand that reads the dead letters. */
    abstract static class DeadLetterCommand implements Callable<Integer> {

        @Mixin
        KafkaOptions kafka;

        @Spec
        CommandLine.Model.CommandSpec spec;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        /** Checks the shared options; picocli reports a failure as a usage error. */
        void validate() {
            if (kafka.timeoutSeconds < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--timeout must be at least 1 second, got "
                        + kafka.timeoutSeconds);
            }
        }

        /** Checks a source topic name: one of the topics whose records a Backbone consumer reads. */
        void validateSourceTopic(String option, String topic) {
            if (topic != null && !sourceTopicNames().contains(topic)) {
                throw new CommandLine.ParameterException(spec.commandLine(), option + " " + topic
                        + " is not a Backbone topic that consumers read; accepted: " + String.join(", ", sourceTopicNames()));
            }
        }

        /** Returns the matching dead letters in offset order, or null after printing why Kafka failed. */
        List<DeadLetterScan.Stored> read(Predicate<DeadLetterScan.Stored> filter) {
            Predicate<DeadLetterScan.Stored> byConsumer = stored -> kafka.consumer == null
                    || (stored.letter() != null && kafka.consumer.equals(stored.letter().consumer()));
            try (var quiet = QuietKafkaLogs.start()) {
                return scan().read(byConsumer.and(filter));
            } catch (DeadLetterScan.UnreachableException e) {
                fail(e.getMessage());
                return null;
            }
        }

        DeadLetterScan scan() {
            return new DeadLetterScan(kafka.bootstrapServers, Duration.ofSeconds(kafka.timeoutSeconds));
        }

        /** Prints {@code error: MESSAGE} on one line and returns exit code 1. */
        int fail(String message) {
            spec.commandLine().getErr().println("error: " + message);
            spec.commandLine().getErr().flush();
            return 1;
        }

        /** Prints one dead letter: a line with its coordinates, then its error, key and value. */
        void print(DeadLetterScan.Stored stored) {
            PrintWriter out = out();
            DeadLetter letter = stored.letter();
            String replay = stored.replayOf() == null ? "" : "  (replay of #" + stored.replayOfId() + ")";
            if (letter == null) {
                out.println("#" + stored.id() + "  " + Instant.ofEpochMilli(stored.timestampMs()) + "  unreadable dead letter"
                        + replay);
                out.println("    error     " + stored.unreadable());
                return;
            }
            out.println("#" + stored.id() + "  " + Instant.ofEpochMilli(letter.failedAtMs()) + "  " + letter.topic() + "-"
                    + letter.partition() + "@" + letter.offset() + "  by " + letter.consumer() + replay);
            out.println("    error     " + oneLine(letter.error()) + " (" + letter.errorClass() + ")");
            out.println("    key       " + DeadLetterScan.preview(stored.key(), 60));
            out.println("    value     " + DeadLetterScan.preview(stored.value(), 120));
        }

        private static String oneLine(String text) {
            String line = String.valueOf(text).replaceAll("\\s+", " ");
            return line.length() > 300 ? line.substring(0, 300) + "..." : line;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists dead letters: offset, time, source topic, partition and offset, consumer, error, and a "
                    + "preview of the original key and value.")
    static final class ListLetters extends DeadLetterCommand {

        @Option(names = "--topic", paramLabel = "TOPIC",
                description = "Only dead letters from this source topic, such as backbone.routed-requests (default: any).")
        String sourceTopic;

        @Option(names = "--limit", defaultValue = "100", paramLabel = "N",
                description = "At most this many dead letters, the newest ones (default: ${DEFAULT-VALUE}).")
        int limit;

        @Override
        public Integer call() {
            validate();
            validateSourceTopic("--topic", sourceTopic);
            if (limit < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--limit must be at least 1, got " + limit);
            }
            List<DeadLetterScan.Stored> matching = read(stored -> sourceTopic == null
                    || (stored.letter() != null && sourceTopic.equals(stored.letter().topic())));
            if (matching == null) {
                return 1;
            }
            List<DeadLetterScan.Stored> letters = matching.subList(Math.max(0, matching.size() - limit), matching.size());
            if (letters.isEmpty()) {
                out().println("No dead letters" + describeFilter(sourceTopic, kafka.consumer) + ".");
                out().flush();
                return 0;
            }
            letters.forEach(this::print);
            out().println(letters.size() + " dead letter" + (letters.size() == 1 ? "" : "s") + describeFilter(sourceTopic, kafka.consumer)
                    + (matching.size() > limit ? " (the newest " + limit + " of " + matching.size() + "; raise --limit to see more)" : "")
                    + ".");
            out().flush();
            return 0;
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = {"Produces the original key and value bytes of selected dead letters, unchanged, to the topic "
                    + "and partition they were read from, with the header " + DeadLetter.REPLAY_HEADER + " naming the "
                    + "dead letter. A replayed record that fails again becomes a new dead letter marked as a replay.",
                    "Only dead letters that exist when the command starts are selected, and each is sent once, so a "
                    + "replay never replays its own failures."})
    static final class Replay extends DeadLetterCommand {

        @ArgGroup(exclusive = true, multiplicity = "1")
        Selection selection;

        @Option(names = "--dry-run", description = "Print what would be replayed and send nothing.")
        boolean dryRun;

        /** What to replay: dead-letter offsets or a source topic, exactly one of them. */
        static final class Selection {

            @Option(names = "--offset", required = true, split = ",", paramLabel = "OFFSET",
                    description = "Dead-letter offsets as 'backbone dlq list' prints them, such as 12 or 12,15 "
                            + "(PARTITION:OFFSET beyond partition 0).")
            List<String> offsets;

            @Option(names = "--topic", required = true, paramLabel = "TOPIC",
                    description = "Every dead letter from this source topic, such as backbone.routed-requests.")
            String sourceTopic;
        }

        @Override
        public Integer call() {
            validate();
            validateSourceTopic("--topic", selection.sourceTopic);
            Set<String> ids = selection.offsets == null ? Set.of() : parseOffsets(selection.offsets);

            List<DeadLetterScan.Stored> selected = read(stored -> selection.sourceTopic != null
                    ? stored.letter() != null && selection.sourceTopic.equals(stored.letter().topic())
                    : ids.contains(stored.id()));
            if (selected == null) {
                return 1;
            }
            String problem = selectionProblem(ids, selected);
            if (problem != null) {
                return fail(problem);
            }
            return dryRun ? printDryRun(selected) : send(selected);
        }

        private Set<String> parseOffsets(List<String> offsets) {
            var ids = new LinkedHashSet<String>();
            for (String text : offsets) {
                String trimmed = text.trim();
                if (!trimmed.matches("([0-9]{1,9}:)?[0-9]{1,18}")) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--offset " + text
                            + " is not a dead-letter offset; accepted: OFFSET or PARTITION:OFFSET as 'backbone dlq list' prints them, such as 12");
                }
                ids.add(trimmed.startsWith("0:") ? trimmed.substring(2) : trimmed);
            }
            return ids;
        }

        /** Returns why the selection cannot be replayed, or null when it can. */
        private String selectionProblem(Set<String> ids, List<DeadLetterScan.Stored> selected) {
            if (selection.sourceTopic != null && selected.isEmpty()) {
                return "no dead letters from topic " + selection.sourceTopic + describeFilter(null, kafka.consumer)
                        + "; 'backbone dlq list' shows what there is";
            }
            Set<String> found = selected.stream().map(DeadLetterScan.Stored::id).collect(Collectors.toSet());
            List<String> missing = ids.stream().filter(id -> !found.contains(id)).toList();
            if (!missing.isEmpty()) {
                return "no dead letter at offset " + String.join(", ", missing) + " of " + Topics.DEAD_LETTERS.name()
                        + describeFilter(null, kafka.consumer) + "; 'backbone dlq list' shows the offsets there are";
            }
            for (DeadLetterScan.Stored stored : selected) {
                if (stored.letter() == null) {
                    return "dead letter #" + stored.id() + " is unreadable (" + stored.unreadable() + "), so it cannot be replayed";
                }
                if (!sourceTopicNames().contains(stored.letter().topic())) {
                    return "dead letter #" + stored.id() + " comes from topic " + stored.letter().topic()
                            + ", which no Backbone consumer reads; it cannot be replayed";
                }
            }
            return null;
        }

        private int printDryRun(List<DeadLetterScan.Stored> selected) {
            for (DeadLetterScan.Stored stored : selected) {
                out().println("would replay #" + stored.id() + " to " + destination(stored) + "  key "
                        + DeadLetterScan.preview(stored.key(), 40) + "  value " + DeadLetterScan.preview(stored.value(), 60));
            }
            out().println("Dry run: " + selected.size() + " dead letter" + (selected.size() == 1 ? "" : "s")
                    + " would be replayed; nothing was sent.");
            out().flush();
            return 0;
        }

        private int send(List<DeadLetterScan.Stored> selected) {
            long timeoutMs = TimeUnit.SECONDS.toMillis(kafka.timeoutSeconds);
            Map<String, Object> config = new LinkedHashMap<>();
            config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers);
            config.put(ProducerConfig.CLIENT_ID_CONFIG, "backbone-dlq-replay");
            config.put(ProducerConfig.ACKS_CONFIG, "all");
            config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeoutMs);
            config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
            config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeoutMs);
            // Kafka requires delivery.timeout.ms >= linger.ms + request.timeout.ms.
            config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeoutMs + 1);
            int replayed = 0;
            try (var quiet = QuietKafkaLogs.start();
                 var producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer())) {
                for (DeadLetterScan.Stored stored : selected) {
                    DeadLetter letter = stored.letter();
                    var headers = new RecordHeaders();
                    headers.add(DeadLetter.REPLAY_HEADER, (stored.partition() + ":" + stored.offset()).getBytes(StandardCharsets.UTF_8));
                    var record = new ProducerRecord<>(letter.topic(), letter.partition(), null, stored.key(), stored.value(), headers);
                    RecordMetadata metadata = producer.send(record).get(2 * timeoutMs, TimeUnit.MILLISECONDS);
                    out().println("replayed #" + stored.id() + " to " + metadata.topic() + "-" + metadata.partition() + "@"
                            + metadata.offset());
                    replayed++;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail("interrupted after replaying " + replayed + " of " + selected.size() + " dead letters");
            } catch (ExecutionException | java.util.concurrent.TimeoutException | KafkaException e) {
                return fail("cannot replay to Kafka at " + kafka.bootstrapServers + " after " + replayed + " of "
                        + selected.size() + " dead letters: " + rootMessage(e));
            }
            out().println("Replayed " + replayed + " dead letter" + (replayed == 1 ? "" : "s") + ".");
            out().flush();
            return 0;
        }

        /** Returns the message of the innermost cause, which names what failed, such as a time-out or a config key. */
        private static String rootMessage(Throwable error) {
            Throwable cause = error;
            while (cause.getCause() != null && cause.getCause() != cause) {
                cause = cause.getCause();
            }
            return String.valueOf(cause.getMessage());
        }

        private static String destination(DeadLetterScan.Stored stored) {
            return stored.letter().topic() + "-" + stored.letter().partition();
        }
    }

    /** Returns the names of the topics Backbone consumers read, in the order of the request path. */
    static List<String> sourceTopicNames() {
        return Topics.all().stream().filter(topic -> topic != Topics.DEAD_LETTERS).map(Topic::name).toList();
    }

    private static String describeFilter(String sourceTopic, String consumer) {
        var parts = new ArrayList<String>();
        if (sourceTopic != null) {
            parts.add("from " + sourceTopic);
        }
        if (consumer != null) {
            parts.add("by consumer " + consumer);
        }
        return parts.isEmpty() ? "" : " " + String.join(" ", parts);
    }

    /**
     * Raises the Kafka clients' log level to ERROR while a command runs, so that an unreachable broker is reported in
     * the command's own one-line error instead of the client's repeated connection warnings. Restores the level on close.
     */
    private static final class QuietKafkaLogs implements AutoCloseable {

        private final Logger logger;
        private final Level previous;

        private QuietKafkaLogs(Logger logger) {
            this.logger = logger;
            this.previous = logger == null ? null : logger.getLevel();
        }

        static QuietKafkaLogs start() {
            Logger logger = LoggerFactory.getLogger("org.apache.kafka") instanceof Logger kafka ? kafka : null;
            var quiet = new QuietKafkaLogs(logger);
            if (logger != null) {
                logger.setLevel(Level.ERROR);
            }
            return quiet;
        }

        @Override
        public void close() {
            if (logger != null) {
                logger.setLevel(previous);
            }
        }
    }
}
