package dev.backbone.launcher.cluster;

import java.util.Objects;

/**
 * Takes the Kafka broker of a {@link Cluster} away from its clients and brings it back, for the broker-outage fault.
 * The broker keeps its data and its address across the outage, so that clients reconnect to it by themselves. An
 * in-process broker is stopped and restarted; a broker in a container can be paused and unpaused.
 */
public interface BrokerOutage {

    /** Makes the broker unreachable to its clients and returns once it is. */
    void stop();

    /** Brings back the broker taken away by {@link #stop()} and returns once it accepts requests. */
    void restart();

    /** Returns an outage made of two actions, such as {@code kafka::stop} and {@code kafka::restart}. */
    static BrokerOutage of(Runnable stop, Runnable restart) {
        Objects.requireNonNull(stop, "stop");
        Objects.requireNonNull(restart, "restart");
        return new BrokerOutage() {
            @Override
            public void stop() {
                stop.run();
            }

            @Override
            public void restart() {
                restart.run();
            }
        };
    }
}
