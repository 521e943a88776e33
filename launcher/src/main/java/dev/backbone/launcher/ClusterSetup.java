package dev.backbone.launcher;

import dev.backbone.events.DnsRecord;
import dev.backbone.events.Settings;
import dev.backbone.events.TopicAdmin;
import dev.backbone.events.Topics;
import dev.backbone.storage.CatalogueSeeder;
import dev.backbone.storage.Database;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prepares a distributed deployment once, before the services start: creates every Backbone topic with the configured
 * replication factor, migrates the PostgreSQL schema, seeds the catalogue, and writes the global DNS record of the
 * site unless the topic already has one. Every step is idempotent, so it runs again at every start of the deployment.
 *
 * <p>Usage: {@code java -cp backbone.jar dev.backbone.launcher.ClusterSetup [config.properties]}, with settings also from
 * {@code BACKBONE_*} environment variables (see {@link ClusterSetupConfig}). Exits with 0 when done, 1 when a step
 * failed and 2 on an invalid configuration.
 */
public final class ClusterSetup {

    private static final Logger log = LoggerFactory.getLogger(ClusterSetup.class);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    private ClusterSetup() {
    }

    public static void main(String[] args) {
        ClusterSetupConfig config;
        try {
            config = ClusterSetupConfig.from(Settings.load(args.length > 0 ? Path.of(args[0]) : null, System.getenv(), Map.of()));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        try {
            run(config);
        } catch (RuntimeException e) {
            log.error("Cluster setup failed", e);
            System.exit(1);
        }
    }

    /**
     * Runs every step.
     *
     * @throws IllegalStateException when Kafka rejects a topic, does not respond in time, or the record cannot be written
     * @throws dev.backbone.storage.StorageException when seeding fails
     */
    public static void run(ClusterSetupConfig config) {
        log.info("Setting up: {}", config);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers()))) {
            TopicAdmin.ensureTopics(admin, Topics.all(), config.topicReplicationFactor());
        }
        try (var dataSource = Database.pool(config.jdbcUrl(), 2)) {
            Database.migrate(dataSource);
            CatalogueSeeder.seed(dataSource, config.categories(), config.products(), 42L);
        }
        DnsRecord record = config.siteRecord();
        if (hasRecord(config.bootstrapServers(), record.key())) {
            log.info("DNS record {} exists; left as it is", record.key());
        } else {
            publish(config.bootstrapServers(), record);
            log.info("Wrote DNS record {} -> {}", record.key(), record.addresses());
        }
    }

    /** Reads {@code backbone.dns-records} from the start to its end offsets and returns whether the last value of the key is a record. */
    static boolean hasRecord(String bootstrapServers, String key) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "backbone-cluster-setup-" + UUID.randomUUID());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (var consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.DNS_RECORDS.name(), READ_TIMEOUT).stream()
                    .map(info -> new TopicPartition(info.topic(), info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, READ_TIMEOUT);
            byte[] expectedKey = key.getBytes(StandardCharsets.UTF_8);
            boolean present = false;
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p, READ_TIMEOUT) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("timed out after " + READ_TIMEOUT.toSeconds() + " s reading "
                            + Topics.DNS_RECORDS.name() + " to its end; check that every broker is up");
                }
                for (var consumed : consumer.poll(Duration.ofMillis(500))) {
                    if (java.util.Arrays.equals(consumed.key(), expectedKey)) {
                        present = consumed.value() != null;
                    }
                }
            }
            return present;
        }
    }

    private static void publish(String bootstrapServers, DnsRecord record) {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true),
                new StringSerializer(), Topics.DNS_RECORDS.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(Topics.DNS_RECORDS.name(), record.key(), record))
                    .get(READ_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing the DNS record " + record.key(), e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("writing the DNS record " + record.key() + " failed: " + e
                    + "; check that every broker is up", e);
        }
    }
}
