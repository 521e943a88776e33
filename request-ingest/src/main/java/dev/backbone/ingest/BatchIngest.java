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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.UriCompliance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts many requests in one HTTP call, {@code POST} {@value #PATH} with one JSON object per line, and publishes each as
 * a {@link ClientRequest} without waiting for its answer. The answers still go to {@code backbone.responses}, keyed by
 * request id; the front door does not wait for them. Each line is checked on its own: a bad line gets its own error in
 * the result and the other lines are still published. Thread-safe.
 */
final class BatchIngest {

    /** The one path of the front door that is not forwarded to the site. */
    static final String PATH = "/_backbone/requests";


    private static final String METHOD_RULE = "1 to 16 letters, such as GET or POST";
    private static final String PATH_RULE = "a request target that starts with '/': a path in percent-encoded UTF-8, "
            + "optionally followed by '?' and a query, without a fragment, encoded '/' or '\\', or '..' above the root";
    private static final String HOST_RULE = "a host name of 1 to 253 letters, digits, '.' or '-', such as shop.example.com";
    private static final String HEADER_NAME_RULE = "an HTTP header name: letters, digits and !#$%&'*+.^_`|~-";
    private static final String HEADER_VALUE_RULE = "text without control characters other than tab";

    private static final String HEADER_NAME_SYMBOLS = "!#$%&'*+.^_`|~-";

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
     * The values a batch line falls back to: the batch call's own {@code Host}, {@code X-Client-Id},
     * {@code X-Client-Region} and {@code X-Client-Country}.
     */
    record Defaults(String host, String clientId, String region, String country) {
    }

    /**
     * Publishes every valid line of {@code body} and completes with the answer to the batch call once Kafka acknowledged
     * or refused each of them: 202 when every line was accepted, the lines' common status when all failed the same
     * way, 207 otherwise. The JSON body counts the accepted and rejected lines, gives the prefix of the accepted lines'
     * request ids (the id of line N is the prefix followed by N), and lists an error for each rejected line.
     */
    CompletableFuture<ClientResponse> ingest(String batchId, byte[] body, Defaults defaults) {
        List<int[]> lines = lineBounds(body);
        if (lines.size() > config.maxBatchRequests()) {
            rejected.increment(lines.size());
            return CompletableFuture.completedFuture(ClientResponse.error(batchId, 413, "payload_too_large",
                    "batch of " + lines.size() + " request lines exceeds the limit of " + config.maxBatchRequests()
                            + " (batch.max.requests); nothing was published",
                    Map.of("field", "body", "accepted", "at most " + config.maxBatchRequests() + " request lines"),
                    config.ingestId(), System.currentTimeMillis()));
        }
        if (lines.isEmpty()) {
            return CompletableFuture.completedFuture(ClientResponse.error(batchId, 400, "bad_request",
                    "the batch has no request lines; send one JSON object per line",
                    Map.of("field", "body", "accepted", "one or more lines, each " + BatchLine.ACCEPTED),
                    config.ingestId(), System.currentTimeMillis()));
        }
        var batch = new Batch(batchId, lines.size());
        for (int i = 0; i < lines.size(); i++) {
            int[] bounds = lines.get(i);
            int lineNumber = bounds[2];
            ClientRequest event;
            try {
                event = toEvent(body, bounds[0], bounds[1] - bounds[0], defaults, batch.requestIdPrefix + lineNumber);
            } catch (LineException e) {
                batch.errors[i] = LineError.of(lineNumber, 400, "bad_request", e.getMessage(), e.fields);
                continue;
            }
            long waitNanos = rateLimiter == null ? 0 : rateLimiter.tryAcquire(event.clientId());
            if (waitNanos > 0) {
                long retryAfter = ClientRateLimiter.retryAfterSeconds(waitNanos);
                batch.errors[i] = LineError.of(lineNumber, 429, "too_many_requests", "client '" + event.clientId()
                                + "' exceeded its rate limit (rate.limit.per.second); retry after " + retryAfter + " s",
                        Map.of("client", event.clientId(), "retryAfterSeconds", Long.toString(retryAfter)));
                continue;
            }
            if (batch.kafkaDown) {
                // One send already failed at once, so every further one would wait up to kafka.timeout.ms as well.
                batch.errors[i] = LineError.unavailable(lineNumber, "cannot reach Kafka");
                continue;
            }
            send(batch, i, lineNumber, event);
        }
        batch.sent();
        return batch.answer;
    }

    private void send(Batch batch, int index, int lineNumber, ClientRequest event) {
        batch.outstanding.incrementAndGet();
        try {
            producer.send(new ProducerRecord<>(Topics.CLIENT_REQUESTS.name(), event.clientId(), event), (metadata, error) -> {
                if (error != null) {
                    log.warn("Cannot publish request {} of a batch: {}", event.requestId(), error.toString());
                    batch.errors[index] = LineError.unavailable(lineNumber, "cannot reach Kafka: " + error.getMessage());
                }
                batch.sent();
            });
        } catch (KafkaException e) {
            log.warn("Cannot publish request {} of a batch: {}", event.requestId(), e.toString());
            batch.kafkaDown = true;
            batch.errors[index] = LineError.unavailable(lineNumber, "cannot reach Kafka: " + e.getMessage());
            batch.sent();
        }
    }

    /** One batch call in progress. Its errors are written by the calling thread and by producer callbacks. */
    private final class Batch {
        final String batchId;
        final String requestIdPrefix;
        /** The error of each line, null for a line accepted so far. */
        final LineError[] errors;
        /** Sends not yet acknowledged or refused, plus one until every line has been handled. */
        final AtomicInteger outstanding = new AtomicInteger(1);
        final CompletableFuture<ClientResponse> answer = new CompletableFuture<>();
        boolean kafkaDown;

        Batch(String batchId, int lines) {
            this.batchId = batchId;
            this.requestIdPrefix = ClientRequest.UNAWAITED_ID_PREFIX + batchId + "-";
            this.errors = new LineError[lines];
        }

        void sent() {
            if (outstanding.decrementAndGet() == 0) {
                // The atomic decrement orders every callback's write to errors before this read.
                answer.complete(answer());
            }
        }

        private ClientResponse answer() {
            int rejectedLines = 0;
            int commonStatus = errors[0] == null ? 202 : errors[0].status;
            boolean mixed = false;
            long retryAfter = 0;

            ArrayNode items = Json.mapper().createArrayNode();
            for (LineError error : errors) {
                int status = error == null ? 202 : error.status;
                mixed |= status != commonStatus;
                if (error != null) {
                    rejectedLines++;
                    items.add(error.toJson());
                    if (status == 429 || status == 503) {
                        String seconds = error.fields.get("retryAfterSeconds");
                        retryAfter = Math.max(retryAfter, seconds == null ? 1 : Long.parseLong(seconds));
                    }
                }
            }
            accepted.increment(errors.length - rejectedLines);
            rejected.increment(rejectedLines);

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

    private ClientRequest toEvent(byte[] body, int offset, int length, Defaults defaults, String requestId)
            throws LineException {
        BatchLine line = BatchLine.parse(body, offset, length);
        String method = orDefault(line.method(), "GET");
        require(isMethod(method), "method", method, METHOD_RULE);
        if (line.path() == null) {
            throw new LineException("missing field 'path'; accepted: " + PATH_RULE, Map.of("field", "path", "accepted", PATH_RULE));
        }
        HttpURI target = target(line.path());
        String host = hostWithoutPort(orDefault(line.host(), defaults.host()));
        require(host != null && isHost(host), "host", host, HOST_RULE);
        String clientId = orDefault(line.clientId(), defaults.clientId());
        require(RequestValidation.isValidClientId(clientId), "clientId", clientId, RequestValidation.CLIENT_ID_RULE);
        String region = orDefault(line.region(), defaults.region());
        require(RequestValidation.isValidRegion(region), "region", region, RequestValidation.REGION_RULE);
        String country = orDefault(line.country(), defaults.country());
        require(RequestValidation.isValidCountry(country), "country", country, RequestValidation.COUNTRY_RULE);
        Map<String, String> headers = headers(line.headers());
        long now = System.currentTimeMillis();
        // No deadline: nobody waits for the answer, so an app server answers it however late it reads it.
        return new ClientRequest(ClientRequest.SCHEMA_VERSION, requestId, clientId, region,
                country, host, method.toUpperCase(Locale.ROOT), target.getDecodedPath(),
                target.getQuery() == null ? "" : target.getQuery(), headers, line.body(), config.ingestId(),
                config.replyPartition(), now, 0);
    }

    private static HttpURI target(String path) throws LineException {
        if (!path.startsWith("/") || path.startsWith("//")) {
            throw invalid("path", path, PATH_RULE);
        }
        HttpURI uri;
        try {
            uri = HttpURI.from(path);
        } catch (IllegalArgumentException e) {
            throw invalid("path", path, PATH_RULE);
        }
        boolean compliant = uri.getViolations().stream().allMatch(UriCompliance.DEFAULT::allows);
        String decoded = compliant ? uri.getDecodedPath() : null;
        if (decoded == null || decoded.isEmpty() || !isText(decoded)) {
            throw invalid("path", path, PATH_RULE);
        }
        return uri;
    }

    private static Map<String, String> headers(Map<String, String> given) throws LineException {
        if (given == null || given.isEmpty()) {
            return Map.of();
        }
        var headers = new LinkedHashMap<String, String>();
        for (var header : given.entrySet()) {
            require(isHeaderName(header.getKey()), "headers", header.getKey(), HEADER_NAME_RULE);
            String value = header.getValue();
            require(value != null && isText(value), "headers." + header.getKey(),
                    String.valueOf(value), HEADER_VALUE_RULE);
            headers.merge(header.getKey().toLowerCase(Locale.ROOT), value, (a, b) -> a + ", " + b);
        }
        return headers;
    }

    private static boolean isMethod(String value) {
        if (value.isEmpty() || value.length() > 16) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isHost(String value) {
        if (value.isEmpty() || value.length() > 253) {
            return false;
        }
        for (int i = 0; i < value.length(); ) {
            int c = value.codePointAt(i);
            if (!Character.isLetterOrDigit(c) && c != '.' && c != '-') {
                return false;
            }
            i += Character.charCount(c);
        }
        return true;
    }

    private static boolean isHeaderName(String value) {
        if (value.isEmpty() || value.length() > 256) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!RequestValidation.isAsciiLetterOrDigit(c) && HEADER_NAME_SYMBOLS.indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }

    /** Returns whether {@code value} has no control characters other than tab. */
    private static boolean isText(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 && c != '\t' || c == 0x7F) {
                return false;
            }
        }
        return true;
    }

    private static String hostWithoutPort(String host) {
        if (host == null) {
            return null;
        }
        int colon = host.lastIndexOf(':');
        if (colon > 0 && colon < host.length() - 1 && host.substring(colon + 1).chars().allMatch(Character::isDigit)) {
            return host.substring(0, colon);
        }
        return host;
    }

    private static String orDefault(String value, String defaultValue) {
        return value == null || value.isBlank() ? defaultValue : value.trim();
    }

    private static void require(boolean valid, String field, String value, String rule) throws LineException {
        if (!valid) {
            throw invalid(field, value, rule);
        }
    }

    private static LineException invalid(String field, String value, String rule) {
        String shown = value == null ? "" : printable(value.length() > 64 ? value.substring(0, 64) + "..." : value);
        return new LineException("invalid " + field + " '" + shown + "'; accepted: " + rule,
                Map.of("field", field, "value", shown, "accepted", rule));
    }

    /** Returns {@code value} with control characters written as escapes, such as {@code \\r\\n}, for error messages. */
    static String printable(String value) {
        if (isText(value) && value.indexOf('\t') < 0) {
            return value;
        }
        var shown = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\r' -> shown.append("\\r");
                case '\n' -> shown.append("\\n");
                case '\t' -> shown.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7F) {
                        shown.append(String.format("\\u%04x", (int) c));
                    } else {
                        shown.append(c);
                    }
                }
            }
        }
        return shown.toString();
    }

    /** The error of a line that was not accepted. */
    private record LineError(int line, int status, String error, String message, Map<String, String> fields) {

        static LineError of(int line, int status, String error, String message, Map<String, String> fields) {
            return new LineError(line, status, error, message, fields);
        }

        static LineError unavailable(int line, String message) {
            return new LineError(line, 503, "service_unavailable", message + "; retry the line", Map.of());
        }

        ObjectNode toJson() {
            var json = Json.mapper().createObjectNode();
            json.put("line", line);
            json.put("status", status);
            json.put("error", error);
            json.put("message", message);
            fields.forEach(json::put);
            return json;
        }
    }

    /** A line that is rejected before it is published, with the fields to show the client. */
    static final class LineException extends Exception {
        private final Map<String, String> fields;

        LineException(String message, Map<String, String> fields) {
            super(message, null, false, false);
            this.fields = fields;
        }
    }
}
