package dev.backbone.routing;

import dev.backbone.events.ClientResponse;
import dev.backbone.events.Topics;
import org.apache.kafka.common.serialization.Serializer;

/**
 * An error response on its way to {@code backbone.responses}, with the partition the waiting front door reads. Only the
 * response is written; the partition is read by {@link ReplyPartitioner}.
 *
 * @param response       the response written
 * @param replyPartition the partition named in the request's {@code replyPartition}
 */
record ReplyOutput(ClientResponse response, int replyPartition) {

    /** Writes the {@link ClientResponse} with the topic's value serde. */
    static final class ValueSerializer implements Serializer<ReplyOutput> {

        private final Serializer<ClientResponse> delegate = Topics.RESPONSES.valueSerde().serializer();

        @Override
        public byte[] serialize(String topic, ReplyOutput data) {
            return data == null ? null : delegate.serialize(topic, data.response());
        }
    }
}
