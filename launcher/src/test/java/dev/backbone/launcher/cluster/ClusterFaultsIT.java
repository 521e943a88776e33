package dev.backbone.launcher.cluster;

import java.util.function.Consumer;

/**
 * The fault scenarios of {@link ClusterFaultScenarios} on the Kafka broker and PostgreSQL in this JVM, in the default
 * build. {@link ContainersClusterFaultsIT} runs the same scenarios on containers.
 */
class ClusterFaultsIT extends ClusterFaultScenarios {

    @Override
    protected Cluster startCluster(ClusterOptions options, Consumer<String> progress) {
        return Cluster.start(options, progress);
    }
}
