package dev.backbone.ingest;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.Json;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts many requests in one HTTP call, {@code POST} {@value #PATH} with one JSON object per line, and publishes each as
 * a {@link ClientRequest} without waiting for its answer. App servers still write the answers to
 * {@code backbone.responses}, keyed by request id, and the front door drops them. Each line is checked on its own
 * ({@link BatchLineValidation}): a bad line gets its own error in the result and the other lines are still published.
 * Thread-safe.
 */
final class BatchIngest {

    /** The one path of the front door that is not forwarded to the site. */
    static final String PATH = "/_backbone/requests";

    private static final Logger log = LoggerFactory.getLogger(BatchIngest.class);

    private final IngestConfig config;
    private final Producer<String, ClientRequest> producer;
    /** {@code null} when the rate limit is off. */
    private final ClientRateLimiter rateLimiter;
    private final Counter accepted;
    private final Counter rejected;

    BatchIngest(IngestConfig config, Producer<String, ClientRequest> producer, ClientRateLimiter rateLimiter,
                MeterRegistry registry) {
        this.config = config;
        this.producer = producer;
        this.rateLimiter = rateLimiter;
        this.accepted = Counter.builder("backbone.ingest.batch.lines").tag("outcome", "accepted")
                .description("request lines of batch calls published to Kafka").register(registry);
        this.rejected = Counter.builder("backbone.ingest.batch.lines").tag("outcome", "rejected")
                .description("request lines of batch calls answered with an error and not published").register(registry);
    }

    /**
     * Publishes every valid line of {@code body} and completes with the answer to the batch call once Kafka acknowledged
     * or rejected each of them: 202 when every line was accepted, the lines' common status when all failed the same
     * way, 207 otherwise. The JSON body counts the accepted and rejected lines, gives the prefix of the accepted lines'
     * request ids (the id of line N is the prefix followed by N), and lists an error for each rejected line. When the
     * last acknowledgement arrives on the producer's thread, the answer is built on {@code executor}.
     */
    CompletableFuture<ClientResponse> ingest(String batchId, byte[] body, BatchLineValidation.Defaults defaults,
                                             Executor executor) {
        int lineCount = countLines(body);
        if (lineCount > config.maxBatchRequests()) {
            return CompletableFuture.completedFuture(ClientResponse.error(batchId, 413, "payload_too_large",
                    "batch of " + lineCount + " request lines exceeds the limit of " + config.maxBatchRequests()
                            + " (batch.max.requests); nothing was published",
                    Map.of("field", "body", "accepted", "at most " + config.maxBatchRequests() + " request lines"),
                    config.ingestId(), System.currentTimeMillis()));
        }
        if (lineCount == 0) {
            return CompletableFuture.completedFuture(ClientResponse.error(batchId, 400, "bad_request",
                    "the batch has no request lines; send one JSON object per line",
                    Map.of("field", "body", "accepted", "one or more lines, each " + BatchLine.ACCEPTED),
                    config.ingestId(), System.currentTimeMillis()));
        }
        List<int[]> lines = lineBounds(body);
        var batch = new Batch(batchId, lines.size(), executor);
        for (int i = 0; i < lines.size(); i++) {
            int[] bounds = lines.get(i);
            int lineNumber = bounds[2];
            ClientRequest event;
            try {
                BatchLine line = BatchLine.parse(body, bounds[0], bounds[1] - bounds[0]);
                event = BatchLineValidation.toEvent(line, defaults, batch.requestIdPrefix + lineNumber, config);
            } catch (BatchLineException e) {
                batch.errors[i] = new LineError(lineNumber, e.status(), JsonErrorHandler.errorCode(e.status()), e.getMessage(),
                        e.fields());
                continue;
            } catch (RuntimeException e) {
                log.warn("Cannot read line {} of batch {}", lineNumber, batchId, e);
                batch.errors[i] = new LineError(lineNumber, 400, "bad_request", "cannot read the line: " + e,
                        Map.of("field", "line", "accepted", BatchLine.ACCEPTED));
                continue;
            }
            long waitNanos = rateLimiter == null ? 0 : rateLimiter.tryAcquire(event.clientId());
            if (waitNanos > 0) {
                batch.errors[i] = tooManyRequests(lineNumber, event.clientId(), waitNanos);
                continue;
            }
            if (batch.kafkaDown) {
                // A send already failed at once, so every further one would block for kafka.timeout.ms as well.
                batch.errors[i] = LineError.unavailable(lineNumber, "cannot reach Kafka");
                continue;
            }
            send(batch, i, lineNumber, event);
        }
        batch.sent(false);
        return batch.answer;
    }

    private void send(Batch batch, int index, int lineNumber, ClientRequest event) {
        batch.outstanding.incrementAndGet();
        Future<RecordMetadata> result;
        try {
            result = producer.send(new ProducerRecord<>(Topics.CLIENT_REQUESTS.name(), event.clientId(), event),
                    (metadata, error) -> {
                        if (error != null) {
                            batch.errors[index] = sendError(lineNumber, error);
                        }
                        batch.sent(true);
                    });
        } catch (RuntimeException e) {
            // A serialization error belongs to this line; anything else, such as a closed producer, to every line.
            batch.kafkaDown = !(e instanceof SerializationException);
            batch.errors[index] = sendError(lineNumber, e);
            batch.sent(false);
            return;
        }
        // KafkaProducer does not throw when metadata or buffer space does not come within max.block.ms: it calls the
        // callback at once and returns a failed future.
        if (result.isDone() && failedWith(result, TimeoutException.class)) {
            batch.kafkaDown = true;
        }
    }

    private static boolean failedWith(Future<RecordMetadata> result, Class<? extends Exception> type) {
        try {
            result.get();
            return false;
        } catch (ExecutionException e) {
            return type.isInstance(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private LineError sendError(int lineNumber, Throwable error) {
        if (error instanceof EventSizeLimit.EventTooLargeException || error instanceof RecordTooLargeException) {
            return new LineError(lineNumber, 413, "payload_too_large", error.getMessage(), Map.of("field", "line",
                    "accepted", "a request whose event is at most " + config.maxEventBytes() + " bytes of JSON "
                            + "(max.event.bytes) and within Kafka's record limit"));
        }
        return LineError.unavailable(lineNumber, "cannot reach Kafka: " + error.getMessage());
    }

    private LineError tooManyRequests(int lineNumber, String clientId, long waitNanos) {
        var rejection = rateLimiter.rejection(clientId, waitNanos);
        return new LineError(lineNumber, 429, "too_many_requests", rejection.message(), rejection.fields());
    }

    /** One batch call in progress. Its errors are written by the calling thread and by producer callbacks. */
    private final class Batch {
        final String batchId;
        final String requestIdPrefix;
        /** The error of each line, null for a line accepted so far. */
        final LineError[] errors;
        /** Sends not yet acknowledged or rejected, plus one until every line has been handled. */
        final AtomicInteger outstanding = new AtomicInteger(1);
        final CompletableFuture<ClientResponse> answer = new CompletableFuture<>();
        final Executor executor;
        /** Written and read on the calling thread only. */
        boolean kafkaDown;

        Batch(String batchId, int lines, Executor executor) {
            this.batchId = batchId;
            this.requestIdPrefix = ClientRequest.UNAWAITED_ID_PREFIX + batchId + "-";
            this.errors = new LineError[lines];
            this.executor = executor;
        }

        /** Counts one send as done; {@code onProducerThread} moves the last one's work off Kafka's I/O thread. */
        void sent(boolean onProducerThread) {
            // The atomic decrement orders every callback's write to errors before the read in complete().
            if (outstanding.decrementAndGet() != 0) {
                return;
            }
            if (!onProducerThread) {
                complete();
                return;
            }
            try {
                executor.execute(this::complete);
            } catch (RejectedExecutionException e) {
                // The server is stopping; answer here rather than leave the call waiting.
                complete();
            }
        }

        private void complete() {
            try {
                answer.complete(answer());
            } catch (RuntimeException e) {
                answer.completeExceptionally(e);
            }
        }

        private ClientResponse answer() {
            int rejectedLines = 0;
            int unpublished = 0;
            LineError firstUnpublished = null;
            int commonStatus = errors[0] == null ? 202 : errors[0].status();
            boolean mixed = false;
            long retryAfter = 0;

            ArrayNode items = Json.mapper().createArrayNode();
            for (LineError error : errors) {
                int status = error == null ? 202 : error.status();
                mixed |= status != commonStatus;
                if (error == null) {
                    continue;
                }
                rejectedLines++;
                items.add(error.toJson());
                if (status == 429 || status == 503) {
                    String seconds = error.fields().get("retryAfterSeconds");
                    retryAfter = Math.max(retryAfter, seconds == null ? 1 : Long.parseLong(seconds));
                }
                if (status == 503) {
                    unpublished++;
                    firstUnpublished = firstUnpublished == null ? error : firstUnpublished;
                }
            }
            accepted.increment(errors.length - rejectedLines);
            rejected.increment(rejectedLines);
            if (firstUnpublished != null) {
                log.warn("Cannot publish {} of {} lines of batch {}; first, line {}: {}", unpublished, errors.length,
                        batchId, firstUnpublished.line(), firstUnpublished.message());
            }

            var json = Json.mapper().createObjectNode();
            json.put("accepted", errors.length - rejectedLines);
            json.put("rejected", rejectedLines);
            json.put("requestIdPrefix", requestIdPrefix);
            json.set("errors", items);

            Map<String, String> headers = new HashMap<>();
            headers.put("content-type", "application/json");
            if (retryAfter > 0) {
                headers.put("retry-after", Long.toString(retryAfter));
            }
            return new ClientResponse(ClientResponse.SCHEMA_VERSION, batchId, mixed ? 207 : commonStatus, headers,
                    json.toString(), config.ingestId(), System.currentTimeMillis());
        }
    }

    /** Returns how many lines of {@code body} are not blank. */
    static int countLines(byte[] body) {
        int count = 0;
        int start = 0;
        for (int i = 0; i <= body.length; i++) {
            if (i == body.length || body[i] == '\n') {
                if (!isBlank(body, start, i)) {
                    count++;
                }
                start = i + 1;
            }
        }
        return count;
    }

    /** Returns {start, end, line number} of every line that is not blank; line numbers start at 1. */
    static List<int[]> lineBounds(byte[] body) {
        var lines = new ArrayList<int[]>();
        int start = 0;
        int lineNumber = 1;
        for (int i = 0; i <= body.length; i++) {
            if (i == body.length || body[i] == '\n') {
                int end = i > start && body[i - 1] == '\r' ? i - 1 : i;
                if (!isBlank(body, start, end)) {
                    lines.add(new int[]{start, end, lineNumber});
                }
                start = i + 1;
                lineNumber++;
            }
        }
        return lines;
    }

    private static boolean isBlank(byte[] body, int start, int end) {
        for (int i = start; i < end; i++) {
            if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r') {
                return false;
            }
        }
        return true;
    }

    /** The error of a line that was not accepted. */
    private record LineError(int line, int status, String error, String message, Map<String, String> fields) {

        static LineError unavailable(int line, String message) {
            return new LineError(line, 503, "service_unavailable", message + "; retry the line", Map.of());
        }

        /** Returns the error as JSON: line, status, error and message, then the fields as error answers order them. */
        ObjectNode toJson() {
            var json = Json.mapper().createObjectNode();
            json.put("line", line);
            json.put("status", status);
            json.put("error", error);
            json.put("message", message);
            ClientResponse.putFields(json, fields);
            return json;
        }
    }
}
