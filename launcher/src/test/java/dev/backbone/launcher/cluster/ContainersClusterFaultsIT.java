package dev.backbone.launcher.cluster;

import dev.backbone.launcher.BackboneContainers;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fault scenarios of {@link ClusterFaultScenarios} on Kafka, PostgreSQL with logical decoding and Redis in
 * containers, with every service a JVM of its own that reaches them through their mapped ports. The broker outage
 * pauses the Kafka container instead of stopping a broker. It runs with {@code -Pcontainers} and is skipped with a
 * message where no Docker engine is reachable, unless {@code backbone.docker.required} is true.
 * {@link ClusterFaultsIT} runs the same scenarios on the in-process Kafka and PostgreSQL in the default build.
 */
class ContainersClusterFaultsIT extends ClusterFaultScenarios {

    private static final Logger log = LoggerFactory.getLogger(ContainersClusterFaultsIT.class);
    private static final String SKIP_MESSAGE = BackboneContainers.skipMessage(ContainersClusterFaultsIT.class,
            ClusterFaultsIT.class);

    private BackboneContainers containers;

    @Override
    protected Cluster startCluster(ClusterOptions options, Consumer<String> progress) {
        if (!BackboneContainers.dockerAvailable(log, SKIP_MESSAGE)) {
            return null;
        }
        progress.accept("starting Kafka, PostgreSQL and Redis in containers");
        containers = BackboneContainers.start();
        return Cluster.startOn(containers.services(), containers.kafkaPause(), options.withRedis(containers.redisUri()),
                progress);
    }

    @Override
    protected String skipMessage() {
        return SKIP_MESSAGE;
    }

    @Override
    protected void stopServices() {
        if (containers != null) {
            containers.close();
        }
    }
}
