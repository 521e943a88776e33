package dev.backbone.ingest;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns every HTTP request, whatever its method and path, into a {@link ClientRequest} on
 * {@code backbone.client-requests} and returns the matching {@link ClientResponse} as the HTTP response. A request gets its
 * response only after Kafka acknowledged it (acks=all); a send that fails is answered 503 with {@code Retry-After}. With a
 * rate limit, a client over it gets 429 with {@code Retry-After} before anything is read or published. The one exception
 * to "every path" is {@code POST /_backbone/requests}, a batch of requests that {@link BatchIngest} publishes without
 * waiting for their answers.
 */
final class FrontDoorHandler extends Handler.Abstract {

    private static final Logger log = LoggerFactory.getLogger(FrontDoorHandler.class);

    /** Headers that describe one hop and are not copied from an app server's response. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "content-length", "transfer-encoding", "keep-alive",
            "upgrade", "te", "trailer", "proxy-connection");

    private static final String BODY_ACCEPTED = "UTF-8 text, such as JSON";

    private final IngestConfig config;
    private final Producer<String, ClientRequest> producer;
    private final PendingRequests pending;
    private final MeterRegistry registry;
    private final Map<String, Timer> timersByStatusClass = new ConcurrentHashMap<>();
    /** {@code null} when the rate limit is off. */
    private final ClientRateLimiter rateLimiter;
    private final Counter rateLimited;
    private final BatchIngest batches;

    FrontDoorHandler(IngestConfig config, Producer<String, ClientRequest> producer, PendingRequests pending,
                     MeterRegistry registry, ClientRateLimiter rateLimiter) {
        this.config = config;
        this.batches = new BatchIngest(config, producer, rateLimiter, registry);
        this.producer = producer;
        this.pending = pending;
        this.registry = registry;
        this.rateLimiter = rateLimiter;
        this.rateLimited = Counter.builder("backbone.ingest.rate.limited")
                .description("requests rejected with 429 because their client exceeded rate.limit.per.second")
                .register(registry);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        long startedNanos = System.nanoTime();
        String requestId = UUID.randomUUID().toString();
        if (BatchIngest.PATH.equals(request.getHttpURI().getDecodedPath())) {
            return handleBatch(request, response, callback, requestId, startedNanos);
        }
        ClientResponse rejected = rejectBeforeBody(request, requestId);
        if (rejected != null) {
            closeIfBodyUnread(request, response);
            write(response, callback, rejected, startedNanos);
            return true;
        }
        Content.Source.asByteArrayAsync(request, config.maxBodyBytes()).whenComplete((body, error) -> {
            if (error != null) {
                closeIfBodyUnread(request, response);
                write(response, callback, bodyError(requestId, error), startedNanos);
                return;
            }
            accept(request, response, callback, requestId, body, startedNanos);
        });
        return true;
    }

    /**
     * Adds {@code Connection: close} to the response of a request whose body is not read. Jetty closes such a
     * connection after the response; without the header a client could send its next request on it and get no
     * response (the routing API had that bug, which CI showed with {@code java.net.http.HttpClient}).
     */
    private static void closeIfBodyUnread(Request request, Response response) {
        long declaredLength = request.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
        if (declaredLength > 0 || request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)) {
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
        }
    }

    /**
     * Returns the error for a request rejected before its body is read: 429 when its client is over the rate limit,
     * 413 when its declared length is over {@code max.body.bytes}. Returns null for a request to read on.
     */
    private ClientResponse rejectBeforeBody(Request request, String requestId) {
        if (rateLimiter != null) {
            String clientId = clientIdOf(request);
            // An invalid client id is rejected with 400 later and gets no bucket, so it cannot fill the limiter.
            long waitNanos = RequestValidation.isValidClientId(clientId) ? rateLimiter.tryAcquire(clientId) : 0;
            if (waitNanos > 0) {
                rateLimited.increment();
                return tooManyRequests(requestId, clientId, waitNanos);
            }
        }
        long declaredLength = request.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
        return declaredLength > config.maxBodyBytes() ? tooLarge(requestId, declaredLength) : null;
    }

    /** Answers {@code POST /_backbone/requests}; the rate limit applies to the call's client and to each line's. */
    private boolean handleBatch(Request request, Response response, Callback callback, String batchId, long startedNanos) {
        if (!"POST".equals(request.getMethod())) {
            var notAllowed = ClientResponse.error(batchId, 405, "method_not_allowed", BatchIngest.PATH + " accepts POST only, "
                            + "not " + request.getMethod() + "; every other path is forwarded to the site",
                    Map.of("field", "method", "value", request.getMethod(), "accepted", "POST"), config.ingestId(),
                    System.currentTimeMillis());
            write(response, callback, withHeader(notAllowed, "allow", "POST"), startedNanos);
            return true;
        }

        // The call counts against its caller like any request; each line also counts against the line's client.
        ClientResponse rejected = rejectBeforeBody(request, batchId);
        if (rejected != null) {
            closeIfBodyUnread(request, response);
            write(response, callback, rejected, startedNanos);
            return true;
        }

        String encoding = request.getHeaders().get(HttpHeader.CONTENT_ENCODING);
        if (encoding != null && !encoding.isBlank() && !"identity".equalsIgnoreCase(encoding.strip())) {
            write(response, callback, ClientResponse.error(batchId, 415, "unsupported_media_type", "Content-Encoding '"
                    + encoding + "' is not supported; send the batch uncompressed", Map.of("field", "Content-Encoding",
                    "value", encoding, "accepted", "no Content-Encoding, or identity"), config.ingestId(),
                    System.currentTimeMillis()), startedNanos);
            return true;
        }

        BatchLineValidation.Defaults defaults;
        try {
            defaults = clientIdentity(request);
        } catch (BadRequestException e) {
            write(response, callback, ClientResponse.error(batchId, 400, "bad_request", e.getMessage(), e.fields(),
                    config.ingestId(), System.currentTimeMillis()), startedNanos);
            return true;
        }

        Executor executor = request.getComponents().getExecutor();
        Content.Source.asByteArrayAsync(request, config.maxBodyBytes()).whenComplete((body, error) -> {
            if (error != null) {
                closeIfBodyUnread(request, response);
                write(response, callback, bodyError(batchId, error), startedNanos);
                return;
            }
            try {
                batches.ingest(batchId, body, defaults, executor).whenComplete((answer, failure) -> write(response, callback,
                        failure == null ? answer : internalError(batchId, failure), startedNanos));
            } catch (RuntimeException e) {
                write(response, callback, internalError(batchId, e), startedNanos);
            }
        });
        return true;
    }

    private void accept(Request request, Response response, Callback callback, String requestId, byte[] body, long startedNanos) {
        ClientRequest event;
        try {
            event = toEvent(request, requestId, body);
        } catch (BadRequestException e) {
            write(response, callback, ClientResponse.error(requestId, 400, "bad_request", e.getMessage(), e.fields(),
                    config.ingestId(), System.currentTimeMillis()), startedNanos);
            return;
        }
        CompletableFuture<ClientResponse> answer = pending.register(requestId);
        if (answer == null) {
            write(response, callback, unavailable(requestId, "too many requests awaiting an answer (max.pending.requests="
                    + config.maxPendingRequests() + ")"), startedNanos);
            return;
        }
        answer.whenComplete((result, error) -> write(response, callback, result, startedNanos));
        try {
            producer.send(new ProducerRecord<>(Topics.CLIENT_REQUESTS.name(), event.clientId(), event), (metadata, sendError) -> {
                if (sendError != null) {
                    log.warn("Cannot publish request {}: {}", requestId, sendError.toString());
                    pending.fail(requestId, unavailable(requestId, "cannot reach Kafka: " + sendError.getMessage()));
                }
            });
        } catch (EventSizeLimit.EventTooLargeException e) {
            pending.fail(requestId, ClientResponse.error(requestId, 413, "payload_too_large", e.getMessage(),
                    Map.of("field", "body", "accepted", "a request whose event is at most " + config.maxEventBytes()
                            + " bytes of JSON (max.event.bytes)"), config.ingestId(), System.currentTimeMillis()));
        } catch (KafkaException e) {
            log.warn("Cannot publish request {}: {}", requestId, e.toString());
            pending.fail(requestId, unavailable(requestId, "cannot reach Kafka: " + e.getMessage()));
        }
    }

    /**
     * Returns the request's host and its client's id, region and country from the {@code X-Client-*} headers or the
     * defaults, checked. For a batch these are what its lines fall back to, so a bad header is reported once for the
     * call rather than for every line.
     */
    private BatchLineValidation.Defaults clientIdentity(Request request) throws BadRequestException {
        var fields = request.getHeaders();
        String clientId = clientIdOf(request);
        String region = headerOrDefault(fields.get("X-Client-Region"), config.defaultRegion());
        String country = headerOrDefault(fields.get("X-Client-Country"), config.defaultCountry());
        if (!RequestValidation.isValidClientId(clientId)) {
            throw invalidHeader("X-Client-Id", clientId, RequestValidation.CLIENT_ID_RULE);
        }
        if (!RequestValidation.isValidRegion(region)) {
            throw invalidHeader("X-Client-Region", region, RequestValidation.REGION_RULE);
        }
        if (!RequestValidation.isValidCountry(country)) {
            throw invalidHeader("X-Client-Country", country, RequestValidation.COUNTRY_RULE);
        }
        return new BatchLineValidation.Defaults(request.getHttpURI().getHost(), clientId, region, country);
    }

    private ClientRequest toEvent(Request request, String requestId, byte[] body) throws BadRequestException {
        var fields = request.getHeaders();
        String host = request.getHttpURI().getHost();
        if (host == null || host.isBlank()) {
            throw new BadRequestException("missing Host header; name the site, such as 'Host: shop.example.com'",
                    Map.of("field", "Host", "accepted", "a host name, such as shop.example.com"));
        }
        var client = clientIdentity(request);
        Map<String, String> headers = new HashMap<>();
        for (HttpField field : fields) {
            headers.merge(field.getLowerCaseName(), field.getValue(), (a, b) -> a + ", " + b);
        }
        String path = request.getHttpURI().getDecodedPath();
        String query = request.getHttpURI().getQuery();
        long now = System.currentTimeMillis();
        return new ClientRequest(ClientRequest.SCHEMA_VERSION, requestId, client.clientId(), client.region(),
                client.country(), host, request.getMethod().toUpperCase(Locale.ROOT), path == null || path.isEmpty() ? "/" : path, query, headers,
                decodeBody(body), config.ingestId(), config.replyPartition(), now, now + config.responseTimeoutMs());
    }

    /** Returns the client id: the {@code X-Client-Id} header, or one derived from the client address. */
    private static String clientIdOf(Request request) {
        return headerOrDefault(request.getHeaders().get("X-Client-Id"), "ip-" + Request.getRemoteAddr(request).replace(':', '.'));
    }

    private static String decodeBody(byte[] body) throws BadRequestException {
        if (body.length == 0) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw new BadRequestException("request body is not valid UTF-8; send UTF-8 text such as JSON",
                    Map.of("field", "body", "accepted", BODY_ACCEPTED));
        }
    }

    private static String headerOrDefault(String value, String defaultValue) {
        return value == null || value.isBlank() ? defaultValue : value.trim();
    }

    private static BadRequestException invalidHeader(String name, String value, String rule) {
        String shown = value.length() > 64 ? value.substring(0, 64) + "..." : value;
        return new BadRequestException("invalid " + name + " header '" + shown + "'; accepted: " + rule,
                Map.of("field", name, "value", shown, "accepted", rule));
    }

    private ClientResponse tooLarge(String requestId, long length) {
        return ClientResponse.error(requestId, 413, "payload_too_large",
                "request body of " + length + " bytes exceeds the limit of " + config.maxBodyBytes() + " bytes (max.body.bytes)",
                Map.of("field", "body", "accepted", bodyLimit()), config.ingestId(), System.currentTimeMillis());
    }

    private ClientResponse bodyError(String requestId, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        // Content.Source.asByteArrayAsync fails with IllegalStateException "Max size (N) exceeded" in Jetty 12.1.14 and
        // with IllegalArgumentException in earlier 12.x releases; a broken connection or chunk is an IOException.
        if (cause instanceof IllegalStateException || cause instanceof IllegalArgumentException) {
            return ClientResponse.error(requestId, 413, "payload_too_large",
                    "request body exceeds the limit of " + config.maxBodyBytes() + " bytes (max.body.bytes)",
                    Map.of("field", "body", "accepted", bodyLimit()), config.ingestId(), System.currentTimeMillis());
        }
        return ClientResponse.error(requestId, 400, "bad_request", "cannot read the request body: " + cause.getMessage(),
                Map.of("field", "body", "accepted", BODY_ACCEPTED), config.ingestId(), System.currentTimeMillis());
    }

    private String bodyLimit() {
        return "a body of at most " + config.maxBodyBytes() + " bytes";
    }

    private ClientResponse tooManyRequests(String requestId, String clientId, long waitNanos) {
        var rejection = rateLimiter.rejection(clientId, waitNanos);
        return withHeader(ClientResponse.error(requestId, 429, "too_many_requests", rejection.message(), rejection.fields(),
                config.ingestId(), System.currentTimeMillis()), "retry-after", Long.toString(rejection.retryAfterSeconds()));
    }

    /** Answers a batch call that failed in a way no input should cause, and logs the failure with its stack trace. */
    private ClientResponse internalError(String batchId, Throwable error) {
        log.error("Batch {} failed", batchId, error);
        return ClientResponse.error(batchId, 500, "internal_error", "the batch failed: " + error
                        + "; lines before the failure may have been published, see the front door's log", null,
                config.ingestId(), System.currentTimeMillis());
    }

    private ClientResponse unavailable(String requestId, String message) {
        return withHeader(ClientResponse.error(requestId, 503, "service_unavailable", message, null, config.ingestId(),
                System.currentTimeMillis()), "retry-after", "1");
    }

    /** Returns {@code answer} with one more header. */
    private static ClientResponse withHeader(ClientResponse answer, String name, String value) {
        var headers = new HashMap<>(answer.headers());
        headers.put(name, value);
        return new ClientResponse(answer.schemaVersion(), answer.requestId(), answer.status(), headers, answer.body(),
                answer.servedBy(), answer.answeredAtMs());
    }

    private void write(Response response, Callback callback, ClientResponse answer, long startedNanos) {
        try {
            response.setStatus(answer.status());
            answer.headers().forEach((name, value) -> {
                if (!HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) {
                    response.getHeaders().put(name, value);
                }
            });
            response.getHeaders().put("X-Request-Id", answer.requestId());
            if (answer.servedBy() != null) {
                response.getHeaders().put("X-Served-By", answer.servedBy());
            }
            Content.Sink.write(response, true, answer.body(), callback);
        } catch (RuntimeException e) {
            log.warn("Cannot write the response to request {}: {}", answer.requestId(), e.toString());
            callback.failed(e);
        }
        timer(answer.status()).record(System.nanoTime() - startedNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private Timer timer(int status) {
        String statusClass = (status / 100) + "xx";
        return timersByStatusClass.computeIfAbsent(statusClass, key -> Timer.builder("backbone.ingest.requests")
                .description("HTTP requests answered by the front door, from arrival to answer")
                .tag("status", key)
                .publishPercentileHistogram()
                .register(registry));
    }

    /** A request the front door rejects before publishing it, with the fields to show the client. */
    private static final class BadRequestException extends Exception {
        private final Map<String, String> fields;

        BadRequestException(String message, Map<String, String> fields) {
            super(message);
            this.fields = fields;
        }

        Map<String, String> fields() {
            return fields;
        }
    }
}
