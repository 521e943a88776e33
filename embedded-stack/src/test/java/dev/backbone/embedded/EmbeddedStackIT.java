package dev.backbone.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.backbone.events.Topics;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedStackExtension.class)
class EmbeddedStackIT {

    @Test
    void brokerListensOnLoopbackAndHasBackboneTopics(EmbeddedKafka kafka) throws Exception {
        assertThat(kafka.bootstrapServers()).startsWith("127.0.0.1:");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            var names = admin.listTopics().names().get();
            for (var topic : Topics.all()) {
                assertThat(names).contains(topic.name());
            }
            var description = admin.describeTopics(List.of(Topics.ROUTED_REQUESTS.name())).allTopicNames().get();
            assertThat(description.get(Topics.ROUTED_REQUESTS.name()).partitions()).hasSize(Topics.ROUTED_REQUESTS.partitions());
        }
    }

    @Test
    void producedRecordIsConsumed(EmbeddedKafka kafka) {
        String topic = Topics.DB_CHANGES.name();
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, "k", "hello")).get();
        } catch (Exception e) {
            throw new AssertionError("produce failed", e);
        }
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "embedded-stack-it",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> seen = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            while (seen.isEmpty() && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
            }
            assertThat(seen).extracting(ConsumerRecord::value).containsExactly("hello");
        }
    }

    @Test
    void postgresHasLogicalDecodingOnLoopback(EmbeddedPostgresServer postgres) throws Exception {
        assertThat(postgres.jdbcUrl()).startsWith("jdbc:postgresql://127.0.0.1:");
        try (Connection connection = postgres.dataSource().getConnection();
             Statement statement = connection.createStatement()) {
            assertThat(setting(statement, "wal_level")).isEqualTo("logical");
            assertThat(setting(statement, "synchronous_commit")).isEqualTo("on");
            assertThat(setting(statement, "listen_addresses")).isEqualTo("127.0.0.1");
            try (ResultSet rs = statement.executeQuery("SELECT current_database()")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo(EmbeddedPostgresServer.DATABASE);
            }
        }
    }

    private static String setting(Statement statement, String name) throws Exception {
        try (ResultSet rs = statement.executeQuery("SHOW " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
