package dev.backbone.routing;

import java.util.EnumSet;
import java.util.Set;

/**
 * Liveness state of a load balancer or app server, as this routing instance derives it from the heartbeats it
 * receives. Only UP members get new keys; DRAINING members keep serving what reaches them.
 *
 * <pre>
 *  (first fresh heartbeat) ──▶ UP ◀──── rise count reached ──── JOINING
 *                              │  ▲                                ▲  │
 *          DRAINING heartbeat  │  │ UP heartbeat    first heartbeat │  │ timeout
 *                              ▼  │                  after DOWN     │  ▼
 *                           DRAINING ──── timeout ──▶ DOWN ─────────┘
 *  UP ── timeout ──▶ DOWN;  DOWN or JOINING ── DRAINING heartbeat ──▶ DRAINING
 * </pre>
 *
 * A sender seen only in stale heartbeats, such as the history Kafka Streams replays into the global store at
 * start-up, starts DOWN.
 */
enum MemberState {
    /** Heartbeating again after DOWN, but fewer than the rise count in a row. Gets no new keys. */
    JOINING,
    /** Alive and taking new keys. */
    UP,
    /** Alive and announcing DRAINING: serves what reaches it, gets no new keys. */
    DRAINING,
    /** No heartbeat for the timeout. Gets no new keys. */
    DOWN;

    /** Returns the states this one may change to. */
    Set<MemberState> next() {
        return switch (this) {
            case JOINING -> EnumSet.of(UP, DRAINING, DOWN);
            case UP -> EnumSet.of(DRAINING, DOWN);
            case DRAINING -> EnumSet.of(UP, DOWN);
            case DOWN -> EnumSet.of(JOINING, UP, DRAINING);
        };
    }

    boolean canChangeTo(MemberState target) {
        return next().contains(target);
    }
}
