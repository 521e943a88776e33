package dev.backbone.routing;

import dev.backbone.events.Heartbeat;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The liveness state machine of every load balancer and app server, driven by the heartbeats of
 * {@code backbone.lb-heartbeats} and by the wall clock (see {@link MemberState} for the states and transitions).
 *
 * <p>Time is the receive time: the wall clock of this routing instance when a heartbeat reaches it, never the
 * sender's {@code sentAtMs}, so that clock skew between hosts does not move a timeout. Every routing instance reads
 * the whole heartbeat topic through its global store and applies the same rules, so instances agree on every state
 * up to the difference in their receive times, which is their consumer lag plus one check interval.
 *
 * <p>The sender's clock is used once: a heartbeat whose {@code sentAtMs} is more than {@code maxAgeMs} behind this
 * instance's clock is stale. It is shown as the last heartbeat but gives no liveness. Kafka Streams replays the
 * heartbeat history into the global store at start-up, and without this check a server that died shortly before the
 * start would count as alive for one timeout.
 *
 * <p>Each state change is logged once at INFO and reported to the {@link TransitionListener}. Thread-safe: the global
 * stream thread feeds heartbeats, stream threads and the REST API read and expire.
 */
final class Membership {

    /** Receives every state change, under the membership lock: keep it short and never call back. */
    @FunctionalInterface
    interface TransitionListener {
        /** @param from the previous state, or null for a sender seen for the first time */
        void changed(Member member, MemberState from);
    }

    /**
     * A member as of one moment.
     *
     * @param lastHeartbeat    the last heartbeat received, stale or not
     * @param lastReceivedAtMs wall-clock time the last fresh heartbeat arrived here, or -1 when none did
     * @param stateSinceMs     wall-clock time of the last state change
     * @param inARow           fresh heartbeats received in a row, each within the timeout of the one before
     */
    record Member(String serverId, MemberState state, Heartbeat lastHeartbeat, long lastReceivedAtMs,
                  long stateSinceMs, int inARow) {

        Heartbeat.Kind kind() {
            return lastHeartbeat.kind();
        }

        String pool() {
            return lastHeartbeat.pool();
        }
    }

    /**
     * The UP app servers of a pool with their last heartbeats, sorted by server id.
     *
     * @param version increases whenever the set of UP servers, or the weight or partitions of one, changes
     */
    record UpServers(long version, SortedMap<String, Heartbeat> servers) {
    }

    private static final Logger log = LoggerFactory.getLogger(Membership.class);

    private final long timeoutMs;
    private final int riseCount;
    private final long maxAgeMs;
    private final TransitionListener listener;
    private final Map<String, MutableMember> members = new HashMap<>();
    private final Map<String, Long> poolVersions = new HashMap<>();
    private final Map<String, UpServers> upServersByPool = new HashMap<>();
    /** The earliest time at which a member can time out; expire() returns at once before it. */
    private long nextExpiryMs = Long.MAX_VALUE;

    /**
     * @param timeoutMs a member with no fresh heartbeat for this long is DOWN
     * @param riseCount fresh heartbeats in a row that a DOWN member needs to be UP again
     * @param maxAgeMs  a heartbeat sent this long before it arrives is stale
     */
    Membership(long timeoutMs, int riseCount, long maxAgeMs, TransitionListener listener) {
        this.timeoutMs = timeoutMs;
        this.riseCount = riseCount;
        this.maxAgeMs = maxAgeMs;
        this.listener = listener;
    }

    /** Applies a heartbeat received at {@code nowMs} on this instance's wall clock. */
    synchronized void onHeartbeat(Heartbeat heartbeat, long nowMs) {
        expire(nowMs);
        boolean stale = nowMs - heartbeat.sentAtMs() > maxAgeMs;
        MutableMember member = members.get(heartbeat.serverId());
        if (member == null) {
            join(heartbeat, stale, nowMs);
            return;
        }

        Heartbeat previous = member.lastHeartbeat;
        member.lastHeartbeat = heartbeat;
        if (!previous.pool().equals(heartbeat.pool()) || previous.kind() != heartbeat.kind()) {
            poolChanged(previous.pool());
        }
        if (member.state == MemberState.UP && (previous.weight() != heartbeat.weight()
                || !previous.partitions().equals(heartbeat.partitions()) || !previous.pool().equals(heartbeat.pool()))) {
            poolChanged(heartbeat.pool());
        }
        if (stale) {
            return;
        }

        if (member.lastReceivedAtMs < 0 || nowMs - member.lastReceivedAtMs >= timeoutMs) {
            member.inARow = 0;
        }
        member.inARow++;
        member.lastReceivedAtMs = nowMs;
        nextExpiryMs = Math.min(nextExpiryMs, nowMs + timeoutMs);

        boolean draining = heartbeat.state() == Heartbeat.State.DRAINING;
        switch (member.state) {
            case UP -> {
                if (draining) {
                    change(member, MemberState.DRAINING, "it announced DRAINING", nowMs);
                }
            }
            case DRAINING -> {
                if (!draining) {
                    change(member, MemberState.UP, "it announced UP", nowMs);
                }
            }
            case JOINING, DOWN -> {
                if (draining) {
                    change(member, MemberState.DRAINING, "it announced DRAINING", nowMs);
                } else if (member.inARow >= riseCount) {
                    change(member, MemberState.UP, member.inARow + " heartbeats in a row", nowMs);
                } else if (member.state == MemberState.DOWN) {
                    change(member, MemberState.JOINING, "1 of " + riseCount + " heartbeats in a row", nowMs);
                }
            }
        }
    }

    private void join(Heartbeat heartbeat, boolean stale, long nowMs) {
        var member = new MutableMember(heartbeat, nowMs);
        members.put(heartbeat.serverId(), member);
        if (stale) {
            // Seen only in history, such as the replay of the heartbeat topic at start-up.
            member.state = MemberState.DOWN;
            member.lastReceivedAtMs = -1;
            announce(member, null, "its only heartbeat was sent " + (nowMs - heartbeat.sentAtMs()) + " ms ago");
            return;
        }
        // A sender seen for the first time is UP at once, like a server under HAProxy's default "init-state up".
        // The rise count is for senders coming back after DOWN.
        member.state = heartbeat.state() == Heartbeat.State.DRAINING ? MemberState.DRAINING : MemberState.UP;
        member.inARow = 1;
        member.lastReceivedAtMs = nowMs;
        nextExpiryMs = Math.min(nextExpiryMs, nowMs + timeoutMs);
        poolChanged(heartbeat.pool());
        announce(member, null, "first heartbeat");
    }

    /** Forgets a sender whose heartbeat was deleted from the topic (a tombstone). */
    synchronized void remove(String serverId, long nowMs) {
        MutableMember member = members.remove(serverId);
        if (member != null) {
            poolChanged(member.lastHeartbeat.pool());
            log.info("{} {} of pool {} removed in state {}: its heartbeat was deleted", label(member.lastHeartbeat.kind()),
                    serverId, member.lastHeartbeat.pool(), member.state);
        }
    }

    /**
     * Marks DOWN every member whose last fresh heartbeat is {@code timeoutMs} old or older. Cheap when no member can
     * have timed out yet, so that callers may run it before every routing decision.
     */
    synchronized void expire(long nowMs) {
        if (nowMs < nextExpiryMs) {
            return;
        }
        long next = Long.MAX_VALUE;
        for (MutableMember member : members.values()) {
            if (member.state == MemberState.DOWN || member.lastReceivedAtMs < 0) {
                continue;
            }
            long silentMs = nowMs - member.lastReceivedAtMs;
            if (silentMs >= timeoutMs) {
                member.inARow = 0;
                change(member, MemberState.DOWN, "no heartbeat for " + silentMs + " ms", nowMs);
            } else {
                next = Math.min(next, member.lastReceivedAtMs + timeoutMs);
            }
        }
        nextExpiryMs = next;
    }

    /** Returns a member, or null when no heartbeat of it was received. */
    synchronized Member member(String serverId) {
        MutableMember member = members.get(serverId);
        return member == null ? null : member.snapshot();
    }

    /** Returns the members of a pool of either kind, sorted by kind, then server id. */
    synchronized List<Member> pool(String pool) {
        var result = new ArrayList<Member>();
        for (MutableMember member : members.values()) {
            if (member.lastHeartbeat.pool().equals(pool)) {
                result.add(member.snapshot());
            }
        }
        result.sort(Comparator.comparing(Member::kind).thenComparing(Member::serverId));
        return result;
    }

    /** Returns the UP app servers of a pool; the same instance until the pool changes. */
    synchronized UpServers upAppServers(String pool) {
        long version = poolVersions.getOrDefault(pool, 0L);
        UpServers cached = upServersByPool.get(pool);
        if (cached != null && cached.version() == version) {
            return cached;
        }
        var servers = new TreeMap<String, Heartbeat>();
        for (MutableMember member : members.values()) {
            Heartbeat heartbeat = member.lastHeartbeat;
            if (member.state == MemberState.UP && heartbeat.kind() == Heartbeat.Kind.APP_SERVER
                    && heartbeat.pool().equals(pool)) {
                servers.put(member.serverId, heartbeat);
            }
        }
        var upServers = new UpServers(version, Collections.unmodifiableSortedMap(servers));
        upServersByPool.put(pool, upServers);
        return upServers;
    }

    private void change(MutableMember member, MemberState target, String reason, long nowMs) {
        MemberState from = member.state;
        if (!from.canChangeTo(target)) {
            throw new IllegalStateException("member " + member.serverId + " cannot change from " + from + " to " + target);
        }
        member.state = target;
        member.stateSinceMs = nowMs;
        if (from == MemberState.UP || target == MemberState.UP) {
            poolChanged(member.lastHeartbeat.pool());
        }
        announce(member, from, reason);
    }

    private void announce(MutableMember member, MemberState from, String reason) {
        Heartbeat heartbeat = member.lastHeartbeat;
        if (from == null) {
            log.info("{} {} of pool {} joined {}: {}", label(heartbeat.kind()), member.serverId, heartbeat.pool(),
                    member.state, reason);
        } else {
            log.info("{} {} of pool {} changed from {} to {}: {}", label(heartbeat.kind()), member.serverId,
                    heartbeat.pool(), from, member.state, reason);
        }
        listener.changed(member.snapshot(), from);
    }

    private void poolChanged(String pool) {
        poolVersions.merge(pool, 1L, Long::sum);
    }

    private static String label(Heartbeat.Kind kind) {
        return kind == Heartbeat.Kind.APP_SERVER ? "App server" : "Load balancer";
    }

    private static final class MutableMember {
        final String serverId;
        Heartbeat lastHeartbeat;
        MemberState state;
        long lastReceivedAtMs;
        long stateSinceMs;
        int inARow;

        MutableMember(Heartbeat heartbeat, long nowMs) {
            this.serverId = heartbeat.serverId();
            this.lastHeartbeat = heartbeat;
            this.stateSinceMs = nowMs;
        }

        Member snapshot() {
            return new Member(serverId, state, lastHeartbeat, lastReceivedAtMs, stateSinceMs, inARow);
        }
    }
}
