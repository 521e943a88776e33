package dev.backbone.events;

import java.util.List;
import java.util.Objects;

/**
 * A liveness announcement of an app server or a load balancer, keyed by {@link #serverId()}.
 *
 * @param schemaVersion event schema version, {@link #SCHEMA_VERSION} for events written by this code
 * @param serverId      the sender's id, such as {@code app-1} or the load-balancer address {@code lb-1}
 * @param kind          {@link Kind#APP_SERVER} or {@link Kind#LOAD_BALANCER}
 * @param pool          the pool an app server serves, or the pool a load balancer fronts
 * @param state         {@link State#UP} or {@link State#DRAINING}
 * @param partitions    partitions of {@code backbone.routed-requests} an app server consumes; empty when unknown
 * @param weight        relative share of keys for an app server, at least 1
 * @param sequence      a counter the sender increments with every heartbeat
 * @param sentAtMs      wall-clock time the heartbeat was sent, epoch milliseconds
 */
public record Heartbeat(
        int schemaVersion,
        String serverId,
        Kind kind,
        String pool,
        State state,
        List<Integer> partitions,
        int weight,
        long sequence,
        long sentAtMs) {

    public static final int SCHEMA_VERSION = 1;

    /** Kinds of senders. */
    public enum Kind { APP_SERVER, LOAD_BALANCER }

    /** States a sender announces. DOWN is never announced: it is what missing heartbeats mean. */
    public enum State { UP, DRAINING }

    public Heartbeat {
        Events.requireSchemaVersion(schemaVersion, SCHEMA_VERSION, "Heartbeat");
        Events.requireText(serverId, "serverId");
        Objects.requireNonNull(kind, "kind");
        Events.requireText(pool, "pool");
        state = state == null ? State.UP : state;
        partitions = partitions == null ? List.of() : List.copyOf(partitions);
        if (weight < 1) {
            throw new IllegalArgumentException("weight must be >= 1, got " + weight);
        }
    }
}
