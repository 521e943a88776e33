package dev.backbone.routing;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Skips an output record that is too large for Kafka, such as the routed request of a request event that only just fit
 * the input topic. Failing the stream thread instead would not help: Kafka Streams replaces it, and the new thread
 * fails again on the same input. The record cannot be dead-lettered either, because the dead letter would be larger
 * still. Every other production error fails the thread as before.
 */
public final class OversizedRecordHandler implements ProductionExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(OversizedRecordHandler.class);

    @Override
    public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        if (exception instanceof RecordTooLargeException) {
            log.warn("Skipped a record for {} of {} bytes, made from input {}-{}@{}: {}", record.topic(),
                    record.value() == null ? 0 : record.value().length, context.topic(), context.partition(),
                    context.offset(), exception.getMessage());
            return Response.resume();
        }
        return Response.fail();
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }
}
