package dev.backbone.events;

import java.util.Collections;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Client library properties taken from a service's configuration: every key under a prefix reaches the client with the
 * prefix removed, so {@code kafka.security.protocol=SASL_SSL} becomes the Kafka client property
 * {@code security.protocol=SASL_SSL}. The properties are applied on top of the ones a service builds, so they can also
 * tune a client. Keys that Backbone sets itself, because its ids, serializers or delivery guarantees depend on them,
 * are rejected with the reason.
 *
 * <p>Immutable and thread-safe. {@link #toString()} masks the values of secret keys (see {@link #isSecretKey}).
 */
public final class PassthroughProperties {

    /** The prefix of properties passed to every Kafka producer, consumer, admin client and Kafka Streams instance. */
    public static final String KAFKA_PREFIX = "kafka.";

    /** The text that replaces secret values in {@link #toString()} and {@link #masked}. */
    public static final String MASK = "(set, masked)";

    /**
     * Settings of Backbone's own under {@value #KAFKA_PREFIX}, which are read by a service and never passed to a
     * client: the front door's {@code kafka.timeout.ms}.
     */
    public static final Set<String> KAFKA_BACKBONE_KEYS = Set.of("kafka.timeout.ms");

    /** Kafka client properties that Backbone sets itself, with the reason shown when a {@code kafka.} key names one. */
    public static final Map<String, String> KAFKA_MANAGED = Map.ofEntries(
            Map.entry("bootstrap.servers", "set bootstrap.servers instead"),
            Map.entry("client.id", "Backbone names each client, and tags its meters with that name"),
            Map.entry("group.id", "Backbone names each consumer group"),
            Map.entry("group.instance.id", "Backbone names each consumer group member"),
            Map.entry("application.id", "set application.id of routing-streams instead"),
            Map.entry("transactional.id", "Backbone's producers are idempotent, not transactional"),
            Map.entry("key.serializer", "Backbone sets the serializers of its topics"),
            Map.entry("value.serializer", "Backbone sets the serializers of its topics"),
            Map.entry("key.deserializer", "Backbone sets the deserializers of its topics"),
            Map.entry("value.deserializer", "Backbone sets the deserializers of its topics"),
            Map.entry("acks", "every producer waits for all in-sync replicas (acks=all), so that an acknowledged "
                    + "request is not lost"),
            Map.entry("enable.idempotence", "producers are idempotent, so that a retried send is not written twice"),
            Map.entry("enable.auto.commit", "Backbone chooses for each consumer when its offsets are committed"));

    private final String prefix;
    private final SortedMap<String, String> properties;

    private PassthroughProperties(String prefix, SortedMap<String, String> properties) {
        this.prefix = prefix;
        this.properties = Collections.unmodifiableSortedMap(properties);
    }

    /**
     * Reads every {@code kafka.*} key except {@link #KAFKA_BACKBONE_KEYS}. A key naming a property in
     * {@link #KAFKA_MANAGED} is recorded as a problem in {@code settings}.
     */
    public static PassthroughProperties kafka(Settings settings) {
        return from(settings, KAFKA_PREFIX, KAFKA_MANAGED, KAFKA_BACKBONE_KEYS);
    }

    /**
     * Reads every key under {@code prefix}.
     *
     * @param managed     client properties that the service sets itself, each with the reason shown when a key names
     *                    it; such keys are recorded as problems in {@code settings}
     * @param serviceKeys whole keys under {@code prefix}, such as {@code kafka.timeout.ms}, that are settings of the
     *                    service and are not passed on
     */
    public static PassthroughProperties from(Settings settings, String prefix, Map<String, String> managed,
            Set<String> serviceKeys) {
        var properties = new TreeMap<String, String>();
        settings.withPrefix(prefix).forEach((name, value) -> {
            if (serviceKeys.contains(prefix + name)) {
                return;
            }
            String reason = managed.get(name);
            if (reason != null) {
                settings.addProblem(prefix + name + " cannot be set, because " + reason + "; remove the key");
                return;
            }
            properties.put(name, value);
        });
        return new PassthroughProperties(prefix, properties);
    }

    /** Returns the properties without the prefix, sorted by name. The values are not masked. */
    public SortedMap<String, String> properties() {
        return properties;
    }

    public boolean isEmpty() {
        return properties.isEmpty();
    }

    /** Returns a modifiable copy of {@code base} with these properties put on top. */
    public Map<String, Object> applyTo(Map<String, Object> base) {
        var merged = new HashMap<String, Object>(base);
        merged.putAll(properties);
        return merged;
    }

    /** Puts these properties into {@code target}, replacing values of the same names, and returns it. */
    public Properties applyTo(Properties target) {
        target.putAll(properties);
        return target;
    }

    /**
     * Returns whether the value of {@code key} is a secret to keep out of logs and messages: a key whose name contains
     * {@code password}, {@code secret}, {@code jaas}, {@code token} or {@code credential}, or ends with {@code key},
     * such as {@code sasl.jaas.config}, {@code ssl.key.password} or {@code ssl.keystore.key}.
     */
    public static boolean isSecretKey(String key) {
        String lower = key.toLowerCase(Locale.ROOT);
        return lower.contains("password") || lower.contains("secret") || lower.contains("jaas")
                || lower.contains("token") || lower.contains("credential") || lower.endsWith("key");
    }

    /** Returns {@code value}, or {@link #MASK} when {@code key} is a secret key. */
    public static String masked(String key, String value) {
        return isSecretKey(key) ? MASK : value;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof PassthroughProperties that && prefix.equals(that.prefix) && properties.equals(that.properties);
    }

    @Override
    public int hashCode() {
        return prefix.hashCode() * 31 + properties.hashCode();
    }

    /** Returns the keys with their prefix and the values, secret values masked, such as {@code {kafka.sasl.jaas.config=(set, masked)}}. */
    @Override
    public String toString() {
        var shown = new StringBuilder("{");
        properties.forEach((name, value) -> {
            if (shown.length() > 1) {
                shown.append(", ");
            }
            shown.append(prefix).append(name).append('=').append(masked(name, value));
        });
        return shown.append('}').toString();
    }
}
