package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.embedded.EmbeddedStack;
import dev.backbone.embedded.EmbeddedStackExtension;
import dev.backbone.events.DnsRecord;
import dev.backbone.events.Settings;
import dev.backbone.events.Topic;
import dev.backbone.events.Topics;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedStackExtension.class)
class ClusterSetupIT {

    /** Returns a configuration for a site of the test's own, because the tests share one broker. */
    private static ClusterSetupConfig config(EmbeddedStack stack, String site) {
        return ClusterSetupConfig.from(Settings.of(Map.of(
                "bootstrap.servers", stack.bootstrapServers(),
                "jdbc.url", stack.postgres().jdbcUrl(),
                "dns.site", site,
                "seed.categories", "5",
                "seed.products", "50")));
    }

    @Test
    void setupPreparesTopicsDatabaseAndDns(EmbeddedStack stack) throws Exception {
        ClusterSetup.run(config(stack, "first.example.com"));

        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()))) {
            var descriptions = admin.describeTopics(Topics.all().stream().map(Topic::name).toList())
                    .allTopicNames().get(30, TimeUnit.SECONDS);
            for (Topic<?, ?> topic : Topics.all()) {
                assertThat(descriptions.get(topic.name()).partitions()).as(topic.name()).hasSize(topic.partitions());
            }
        }
        assertThat(count(stack, "SELECT count(*) FROM products")).isEqualTo(50);
        DnsRecord record = lastRecord(stack, "global/first.example.com");
        assertThat(record.addresses()).containsExactly("lb-1", "lb-2");
    }

    @Test
    void secondRunKeepsChangedDnsRecord(EmbeddedStack stack) throws Exception {
        ClusterSetup.run(config(stack, "second.example.com"));
        var changed = new DnsRecord(DnsRecord.SCHEMA_VERSION, "second.example.com", DnsRecord.GLOBAL, DnsRecord.Type.A,
                List.of("lb-eu-west"), null, 30, 2);
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                new StringSerializer(), Topics.DNS_RECORDS.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(Topics.DNS_RECORDS.name(), changed.key(), changed)).get(30, TimeUnit.SECONDS);
        }

        ClusterSetup.run(config(stack, "second.example.com"));

        assertThat(lastRecord(stack, changed.key())).isEqualTo(changed);
        assertThat(count(stack, "SELECT count(*) FROM products")).isEqualTo(50);
    }

    private static long count(EmbeddedStack stack, String sql) throws Exception {
        try (Connection connection = DriverManager.getConnection(stack.postgres().jdbcUrl());
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Reads backbone.dns-records to its end and returns the last value of {@code key}. */
    private static DnsRecord lastRecord(EmbeddedStack stack, String key) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                ConsumerConfig.CLIENT_ID_CONFIG, "cluster-setup-it-" + UUID.randomUUID()),
                new StringDeserializer(), Topics.DNS_RECORDS.valueSerde().deserializer())) {
            var partition = new TopicPartition(Topics.DNS_RECORDS.name(), 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            DnsRecord last = null;
            // Bounded: the topic contains a few records, and each poll waits at most one second.
            for (int poll = 0; poll < 30 && consumer.position(partition) < end; poll++) {
                for (var consumed : consumer.poll(Duration.ofSeconds(1))) {
                    if (key.equals(consumed.key())) {
                        last = consumed.value();
                    }
                }
            }
            assertThat(consumer.position(partition)).as("read to the end of %s", partition).isEqualTo(end);
            return last;
        }
    }
}
