package dev.backbone.routing;

import dev.backbone.events.DeadLetter;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a record that cannot be deserialized or processed on a stream thread to {@code backbone.dead-letters} as a
 * {@link DeadLetter}, and lets processing continue. Kafka Streams 4.1 and later write the records this handler
 * returns with the task's own producer (KIP-1034).
 *
 * <p>Global stream threads cannot write such records, so the global-store processors deserialize by hand and use a
 * {@link DeadLetterSink} instead. Configured by class name in {@link RoutingConfig#streamsProperties()}; Kafka Streams
 * creates and configures one instance per thread.
 */
public final class DeadLetterExceptionHandler implements DeserializationExceptionHandler, ProcessingExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(DeadLetterExceptionHandler.class);

    private final Clock clock = Clock.systemUTC();
    private String consumerName = RoutingConfig.DEFAULT_APPLICATION_ID;

    @Override
    public void configure(Map<String, ?> configs) {
        Object applicationId = configs.get(StreamsConfig.APPLICATION_ID_CONFIG);
        if (applicationId != null) {
            consumerName = applicationId.toString();
        }
    }

    @Override
    public DeserializationExceptionHandler.Response handleError(ErrorHandlerContext context,
                                                                ConsumerRecord<byte[], byte[]> record,
                                                                Exception exception) {
        var letter = DeadLetters.of(record.topic(), record.partition(), record.offset(), record.key(), record.value(),
                exception, consumerName, clock.millis());
        log.warn("Dead-lettered malformed record {}-{}@{}: {}", record.topic(), record.partition(), record.offset(),
                exception.getMessage());
        return DeserializationExceptionHandler.Response.resume(List.of(DeadLetters.toRecord(record.key(), letter,
                record.headers())));
    }

    @Override
    public ProcessingExceptionHandler.Response handleError(ErrorHandlerContext context, Record<?, ?> record,
                                                           Exception exception) {
        if (context.topic() == null) {
            // A punctuation failed: there is no input record to dead-letter.
            log.error("Processor {} of task {} failed outside of a record; continuing", context.processorNodeId(),
                    context.taskId(), exception);
            return ProcessingExceptionHandler.Response.resume();
        }
        var letter = DeadLetters.of(context.topic(), context.partition(), context.offset(), context.sourceRawKey(),
                context.sourceRawValue(), exception, consumerName, clock.millis());
        log.error("Dead-lettered record {}-{}@{} after processor {} failed", context.topic(), context.partition(),
                context.offset(), context.processorNodeId(), exception);
        return ProcessingExceptionHandler.Response.resume(List.of(DeadLetters.toRecord(context.sourceRawKey(), letter,
                context.headers())));
    }
}
