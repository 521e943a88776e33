package dev.backbone.routing;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.processor.TaskId;
import org.junit.jupiter.api.Test;

class OversizedRecordHandlerTest {

    private final OversizedRecordHandler handler = new OversizedRecordHandler();
    private final ProducerRecord<byte[], byte[]> record = new ProducerRecord<>("backbone.routed-requests", new byte[10]);

    @Test
    void recordTooLargeIsSkipped() {
        var response = handler.handleError(new Context(), record, new RecordTooLargeException("The message is 1048716 bytes"));

        assertThat(response.result()).isEqualTo(ProductionExceptionHandler.Result.RESUME);
    }

    @Test
    void otherErrorsFailTheThread() {
        var response = handler.handleError(new Context(), record, new TimeoutException("expired"));

        assertThat(response.result()).isEqualTo(ProductionExceptionHandler.Result.FAIL);
    }

    /** The source record's coordinates, as Kafka Streams passes them. */
    private static final class Context implements ErrorHandlerContext {
        @Override public String topic() { return "backbone.client-requests"; }
        @Override public int partition() { return 3; }
        @Override public long offset() { return 42; }
        @Override public Headers headers() { return new RecordHeaders(); }
        @Override public String processorNodeId() { return RoutingTopology.ROUTE_PROCESSOR; }
        @Override public TaskId taskId() { return new TaskId(0, 3); }
        @Override public long timestamp() { return 0; }
        @Override public byte[] sourceRawKey() { return null; }
        @Override public byte[] sourceRawValue() { return null; }
    }
}
