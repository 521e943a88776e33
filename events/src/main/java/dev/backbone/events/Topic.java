package dev.backbone.events;

import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.serialization.Serde;

/**
 * A Kafka topic with everything code needs to use it: its name, key and value serdes, partition count and configs.
 * The constants in {@link Topics} are the only place a topic name is spelled.
 *
 * @param name       the topic name
 * @param keySerde   the key serde
 * @param valueSerde the value serde
 * @param partitions the partition count created by {@link TopicAdmin}
 * @param configs    topic configs, such as {@code cleanup.policy}
 */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde, int partitions, Map<String, String> configs) {

    public Topic {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(keySerde, "keySerde");
        Objects.requireNonNull(valueSerde, "valueSerde");
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        }
        configs = Map.copyOf(configs);
    }

    /** Returns {@code compact} or {@code delete}. */
    public String cleanupPolicy() {
        return configs.getOrDefault("cleanup.policy", "delete");
    }

    /** Returns the admin-client description of this topic with the given replication factor. */
    public NewTopic newTopic(short replicationFactor) {
        return new NewTopic(name, partitions, replicationFactor).configs(configs);
    }

    @Override
    public String toString() {
        return name;
    }
}
