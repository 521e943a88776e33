package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.backbone.embedded.FreePorts;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.Topics;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code backbone dlq} on the one-JVM stack. A category page whose response is larger than Kafka's 1 MiB record limit
 * cannot be sent, so the app server dead-letters its routed request: a failure caused by the data, not by the record.
 * The test lists that dead letter, replays it unchanged (it fails again and is marked as a replay), shortens the
 * descriptions, replays it again and sees the response.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DlqCommandIT {

    private static final int REPLY_PARTITION = 5;
    private static final Pattern LETTER_LINE = Pattern.compile("(?m)^#(\\d+)  \\S+  backbone\\.routed-requests-(\\d+)@\\d+  by (\\S+)(.*)$");

    private LocalStack stack;

    @BeforeAll
    void start() {
        stack = LocalStack.start(StackOptions.ephemeral(1, 200, 2), step -> { });
    }

    @AfterAll
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void deadLetterIsListedReplayedAndAnswered() throws Exception {
        int longDescriptions = execute("UPDATE products SET description = repeat('\u00e9', 10000) WHERE category_id = 1");
        assertThat(longDescriptions).as("products of category 1; 60 of 20 kB each exceed 1 MiB").isGreaterThanOrEqualTo(60);
        produceGarbage(Topics.CLIENT_REQUESTS);
        String requestId = "dlq-it-" + UUID.randomUUID();
        produceRequest(requestId, "/categories/1/products", "size=100");

        // 1. The app server cannot send the 2 MB response, so the routed request becomes a dead letter.
        ConsoleCapture.Result listed = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> dlq("list", "--topic", Topics.ROUTED_REQUESTS.name()), result -> result.out().contains(requestId));
        assertThat(listed.exitCode()).isZero();
        Matcher first = LETTER_LINE.matcher(listed.out());
        assertThat(first.find()).as("a dead letter line in:%n%s", listed.out()).isTrue();
        String offset = first.group(1);
        int partition = Integer.parseInt(first.group(2));
        assertThat(first.group(3)).isEqualTo("backbone-app-servers-shop");
        assertThat(listed.out()).contains("RecordTooLargeException").contains("value     {\"schemaVersion\":1,\"request\":").contains("1 dead letter from");
        assertThat(listed.out()).doesNotContain("backbone.client-requests-");
        assertThat(dlq("list", "--topic", Topics.CLIENT_REQUESTS.name()).out()).contains("backbone.client-requests-")
                .contains("by backbone-routing");

        // 2. A dry run sends nothing.
        long endBefore = endOffset(Topics.ROUTED_REQUESTS.name(), partition);
        ConsoleCapture.Result dryRun = dlq("replay", "--offset", offset, "--dry-run");
        assertThat(dryRun.exitCode()).as("dry run output:%n%s%s", dryRun.out(), dryRun.err()).isZero();
        assertThat(dryRun.out()).contains("would replay #" + offset + " to backbone.routed-requests-" + partition)
                .contains("nothing was sent");
        assertThat(endOffset(Topics.ROUTED_REQUESTS.name(), partition)).isEqualTo(endBefore);

        // 3. Replayed unchanged, the request fails again, and its new dead letter says it is a replay.
        ConsoleCapture.Result unchanged = dlq("replay", "--offset", offset);
        assertThat(unchanged.exitCode()).as("replay output:%n%s%s", unchanged.out(), unchanged.err()).isZero();
        assertThat(unchanged.out()).contains("replayed #" + offset + " to backbone.routed-requests-" + partition + "@" + endBefore)
                .contains("Replayed 1 dead letter.");
        ConsoleCapture.Result again = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> dlq("list", "--topic", Topics.ROUTED_REQUESTS.name()), result -> result.out().contains("(replay of #" + offset + ")"));
        assertThat(again.out()).contains("2 dead letters from " + Topics.ROUTED_REQUESTS.name());
        ConsoleCapture.Result newest = dlq("list", "--consumer", "backbone-app-servers-shop", "--limit", "1");
        assertThat(newest.out()).contains("(replay of #" + offset + ")").contains("the newest 1 of 2");

        // 4. With the cause fixed, the same dead letter replayed again is answered.
        execute("UPDATE products SET description = 'short' WHERE category_id = 1");
        try (var responses = replyConsumer()) {
            ConsoleCapture.Result fixed = dlq("replay", "--offset", offset);
            assertThat(fixed.exitCode()).as("replay output:%n%s%s", fixed.out(), fixed.err()).isZero();
            List<ClientResponse> answered = new ArrayList<>();
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                for (var record : responses.poll(Duration.ofMillis(200))) {
                    answered.add(Topics.RESPONSES.valueSerde().deserializer().deserialize(record.topic(), record.value()));
                }
                assertThat(answered).filteredOn(response -> response.requestId().equals(requestId))
                        .extracting(ClientResponse::status).containsExactly(200);
            });
            assertThat(answered.stream().filter(response -> response.requestId().equals(requestId)).findFirst().orElseThrow()
                    .body()).contains("\"categoryId\":1").contains("short");
        }
    }

    @Test
    void badSelectionIsOneLineError() {
        ConsoleCapture.Result unknownOffset = dlq("replay", "--offset", "999999");
        assertThat(unknownOffset.exitCode()).isEqualTo(1);
        assertThat(unknownOffset.err().strip()).startsWith("error: no dead letter at offset 999999 of backbone.dead-letters")
                .doesNotContain("\n");

        ConsoleCapture.Result noLetters = dlq("replay", "--topic", Topics.CDN_PURGES.name());
        assertThat(noLetters.exitCode()).isEqualTo(1);
        assertThat(noLetters.err().strip()).isEqualTo("error: no dead letters from topic backbone.cdn-purges; "
                + "'backbone dlq list' shows what there is");

        ConsoleCapture.Result unknownTopic = dlq("replay", "--topic", "backbone.nope");
        assertThat(unknownTopic.exitCode()).isEqualTo(2);
        assertThat(unknownTopic.err()).contains("--topic backbone.nope is not a Backbone topic that consumers read; accepted: "
                + "backbone.client-requests");

        ConsoleCapture.Result badOffset = dlq("replay", "--offset", "twelve");
        assertThat(badOffset.exitCode()).isEqualTo(2);
        assertThat(badOffset.err()).contains("--offset twelve is not a dead-letter offset");

        ConsoleCapture.Result noSelection = dlq("replay");
        assertThat(noSelection.exitCode()).isEqualTo(2);
        assertThat(noSelection.err()).contains("--offset").contains("--topic");
    }

    @Test
    void unreachableBrokerIsOneLineError() {
        String nowhere = "127.0.0.1:" + FreePorts.next();

        for (String command : List.of("list", "replay")) {
            ConsoleCapture.Result result = ConsoleCapture.run(() -> command.equals("list")
                    ? Backbone.run("dlq", "list", "--bootstrap-servers", nowhere, "--timeout", "2")
                    : Backbone.run("dlq", "replay", "--topic", Topics.ROUTED_REQUESTS.name(), "--bootstrap-servers", nowhere,
                    "--timeout", "2"));

            assertThat(result.exitCode()).as(command).isEqualTo(1);
            assertThat(result.err().strip()).as(command).isEqualTo("error: cannot reach Kafka at " + nowhere
                    + " within 2 s; pass --bootstrap-servers with the Kafka bootstrap address that 'backbone serve' or 'backbone cluster' prints");
            assertThat(result.out()).as(command).isEmpty();
        }
    }

    private ConsoleCapture.Result dlq(String... arguments) {
        var all = new ArrayList<>(List.of("dlq"));
        all.addAll(List.of(arguments));
        all.addAll(List.of("--bootstrap-servers", stack.bootstrapServers()));
        return ConsoleCapture.run(() -> Backbone.run(all.toArray(String[]::new)));
    }

    private int execute(String sql) throws Exception {
        try (Connection connection = DriverManager.getConnection(stack.jdbcUrl());
             Statement statement = connection.createStatement()) {
            return statement.executeUpdate(sql);
        }
    }

    /** Produces a request as {@code backbone load --to kafka} does: its response goes to a partition no front door reads. */
    private void produceRequest(String requestId, String path, String query) throws Exception {
        long now = System.currentTimeMillis();
        var request = new ClientRequest(ClientRequest.SCHEMA_VERSION, requestId, "dlq-it", "us-east", "US", LocalStack.SITE,
                "GET", path, query, Map.of(), null, "dlq-it", REPLY_PARTITION, now, now + Duration.ofMinutes(10).toMillis());
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), Topics.CLIENT_REQUESTS.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(Topics.CLIENT_REQUESTS.name(), request.clientId(), request)).get();
        }
    }

    private void produceGarbage(dev.backbone.events.Topic<?, ?> topic) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic.name(), "dlq-it".getBytes(StandardCharsets.UTF_8),
                    "not json".getBytes(StandardCharsets.UTF_8))).get();
        }
    }

    private long endOffset(String topic, int partition) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            var topicPartition = new TopicPartition(topic, partition);
            return consumer.endOffsets(List.of(topicPartition)).get(topicPartition);
        }
    }

    private KafkaConsumer<byte[], byte[]> replyConsumer() {
        var consumer = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        var replies = new TopicPartition(Topics.RESPONSES.name(), REPLY_PARTITION);
        consumer.assign(List.of(replies));
        consumer.seekToBeginning(List.of(replies));
        return consumer;
    }
}
