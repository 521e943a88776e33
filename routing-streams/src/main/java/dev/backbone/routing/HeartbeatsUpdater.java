package dev.backbone.routing;

import dev.backbone.events.Heartbeat;
import dev.backbone.events.Topics;

/**
 * Keeps the global store of last heartbeats, keyed by server id, in step with {@code backbone.lb-heartbeats}, and
 * feeds each heartbeat to the {@link Membership} state machine with its receive time.
 */
final class HeartbeatsUpdater extends GlobalRecordUpdater<Heartbeat> {

    private final Membership membership;

    HeartbeatsUpdater(String storeName, DeadLetterSink deadLetters, String consumerName, RoutingMetrics metrics,
                      Membership membership) {
        super(storeName, Topics.jsonSerde(Topics.LB_HEARTBEATS), deadLetters, consumerName, metrics);
        this.membership = membership;
    }

    @Override
    void stored(String key, Heartbeat heartbeat, long nowMs) {
        membership.onHeartbeat(heartbeat, nowMs);
    }

    @Override
    void deleted(String key, long nowMs) {
        membership.remove(key, nowMs);
    }

    @Override
    String canonicalKey(String topicKey) {
        if (topicKey.isBlank()) {
            throw new IllegalArgumentException("record key is blank; expected the sender's server id");
        }
        return topicKey;
    }

    @Override
    Heartbeat checked(String canonicalKey, Heartbeat heartbeat) {
        if (!heartbeat.serverId().equals(canonicalKey)) {
            throw new IllegalArgumentException("record key '" + canonicalKey + "' does not match serverId '"
                    + heartbeat.serverId() + "'");
        }
        return heartbeat;
    }
}
