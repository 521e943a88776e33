package dev.backbone.events;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates Backbone topics that do not exist yet; existing topics are never changed. */
public final class TopicAdmin {

    private static final Logger log = LoggerFactory.getLogger(TopicAdmin.class);

    private TopicAdmin() {
    }

    /**
     * Waits up to 30 seconds until every partition of the topics has a leader. A producer that writes right after
     * creation can otherwise get NOT_LEADER_OR_FOLLOWER, and with Kafka 4.3.2 an idempotent producer retrying that first
     * batch was seen to loop on OUT_OF_ORDER_SEQUENCE_NUMBER for good.
     *
     * @throws IllegalStateException when a partition has no leader in time
     */
    public static void awaitLeaders(Admin admin, java.util.Collection<String> topicNames) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!topicNames.isEmpty()) {
            try {
                var descriptions = admin.describeTopics(topicNames).allTopicNames().get(30, TimeUnit.SECONDS);
                boolean allLed = descriptions.values().stream()
                        .flatMap(description -> description.partitions().stream())
                        .allMatch(partition -> partition.leader() != null && !partition.leader().isEmpty());
                if (allLed) {
                    return;
                }
            } catch (ExecutionException | TimeoutException e) {
                // Metadata of a new topic can lag its creation; try again until the deadline.
                log.debug("Topics {} not described yet: {}", topicNames, e.toString());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("partitions of " + topicNames + " have no leader 30 s after creation");
            }
            Thread.sleep(50);
        }
    }

    /**
     * Creates every topic of {@code topics} that is missing, waiting up to 30 seconds.
     *
     * @throws IllegalStateException when the cluster rejects a topic or does not answer in time
     */
    public static void ensureTopics(Admin admin, List<Topic<?, ?>> topics, short replicationFactor) {
        try {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            var missing = topics.stream().filter(t -> !existing.contains(t.name())).map(t -> t.newTopic(replicationFactor)).toList();
            if (missing.isEmpty()) {
                return;
            }
            var created = new java.util.ArrayList<String>();
            for (var entry : admin.createTopics(missing).values().entrySet()) {
                try {
                    entry.getValue().get(30, TimeUnit.SECONDS);
                    created.add(entry.getKey());
                    log.info("Created topic {}", entry.getKey());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + entry.getKey() + ": " + e.getCause().getMessage(), e.getCause());
                    }
                }
            }
            awaitLeaders(admin, created);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot list or create topics: " + e.getMessage(), e);
        }
    }
}
