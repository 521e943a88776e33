package dev.backbone.appserver;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.events.Json;
import dev.backbone.storage.Product;
import dev.backbone.storage.ProductRepository;
import dev.backbone.storage.ProductUpdate;
import dev.backbone.storage.StorageException;
import dev.backbone.storage.Versioned;
import dev.backbone.storage.VersionedCache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one client request into its response: dispatches on method and path, reads products through the cache and
 * writes them to PostgreSQL. Every exception becomes a JSON error response, so {@link #handle} throws only a JVM
 * {@link Error}. Thread-safe.
 */
final class RequestHandler {

    private static final Logger log = LoggerFactory.getLogger(RequestHandler.class);

    static final String PRODUCTS_PREFIX = "/products/";
    static final String ALLOWED_METHODS = "GET, PUT";
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,19}");
    private static final String ID_ACCEPTED = "an integer from 0 to " + Long.MAX_VALUE;
    private static final Map<String, String> JSON_HEADERS = Map.of("content-type", "application/json");
    /** Status classes counted, indexed by status / 100 - 1. */
    private static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

    private final ProductRepository products;
    private final VersionedCache<Long, Product> cache;
    private final String serverId;
    private final Clock clock;
    private final Timer findTimer;
    private final Timer updateTimer;
    private final LongAdder[] answered = new LongAdder[STATUS_CLASSES.length];
    private final Counter[] answeredCounters = new Counter[STATUS_CLASSES.length];
    private final RateLimitedWarning storageWarning;

    RequestHandler(ProductRepository products, VersionedCache<Long, Product> cache, String serverId, Clock clock,
                   MeterRegistry registry) {
        this.products = products;
        this.cache = cache;
        this.serverId = serverId;
        this.clock = clock;
        this.findTimer = Timer.builder("backbone.db.queries").tag("query", "product.find")
                .description("database queries of the app server").register(registry);
        this.updateTimer = Timer.builder("backbone.db.queries").tag("query", "product.update")
                .description("database queries of the app server").register(registry);
        for (int i = 0; i < STATUS_CLASSES.length; i++) {
            answered[i] = new LongAdder();
            answeredCounters[i] = Counter.builder("backbone.app.requests").tag("status", STATUS_CLASSES[i])
                    .description("requests answered, by HTTP status class").register(registry);
        }
        this.storageWarning = new RateLimitedWarning(log, clock, 10_000);
    }

    /** Handles a request and returns its response, counted by status class. */
    ClientResponse handle(ClientRequest request) {
        ClientResponse response;
        try {
            response = dispatch(request);
        } catch (StorageException e) {
            response = storageFailure(request, e);
        } catch (RuntimeException e) {
            log.error("Request {} ({} {}) failed", request.requestId(), request.method(), request.path(), e);
            response = ClientResponse.error(request.requestId(), 500, "internal_error",
                    "the app server failed to handle the request", Map.of(), serverId, clock.millis());
        }
        int statusClass = response.status() / 100 - 1;
        answered[statusClass].increment();
        answeredCounters[statusClass].increment();
        return response;
    }

    /** Returns how many responses were returned per status class, such as {@code 2xx}, in status order. */
    Map<String, Long> answeredByStatusClass() {
        var counts = new LinkedHashMap<String, Long>();
        for (int i = 0; i < STATUS_CLASSES.length; i++) {
            counts.put(STATUS_CLASSES[i], answered[i].sum());
        }
        return counts;
    }

    private ClientResponse dispatch(ClientRequest request) {
        String path = request.path();
        if (!path.startsWith(PRODUCTS_PREFIX) || path.length() == PRODUCTS_PREFIX.length()
                || path.indexOf('/', PRODUCTS_PREFIX.length()) >= 0) {
            return error(request, 404, "not_found", "no resource at " + InvalidInputException.shorten(path)
                    + "; known paths: /products/{id}", Map.of("path", InvalidInputException.shorten(path)));
        }
        String idText = path.substring(PRODUCTS_PREFIX.length());
        return switch (request.method()) {
            case "GET" -> withId(request, idText, this::getProduct);
            case "PUT" -> withId(request, idText, this::putProduct);
            default -> methodNotAllowed(request);
        };
    }

    private interface ProductEndpoint {
        ClientResponse answer(ClientRequest request, long id) throws InvalidInputException;
    }

    private ClientResponse withId(ClientRequest request, String idText, ProductEndpoint endpoint) {
        try {
            return endpoint.answer(request, parseId(idText));
        } catch (InvalidInputException e) {
            return error(request, 400, "invalid_input", e.getMessage(),
                    Map.of("field", e.field(), "value", e.value(), "accepted", e.accepted()));
        }
    }

    static long parseId(String text) throws InvalidInputException {
        if (DIGITS.matcher(text).matches()) {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                // 19 digits above Long.MAX_VALUE: reported below like any other invalid id.
            }
        }
        String shortValue = InvalidInputException.shorten(text);
        throw new InvalidInputException("product id " + shortValue + " is invalid; accepted: " + ID_ACCEPTED, "id", text, ID_ACCEPTED);
    }

    private ClientResponse getProduct(ClientRequest request, long id) {
        Optional<Product> product = cache.get(id, this::load);
        return product.map(found -> ok(request, found)).orElseGet(() -> productNotFound(request, id));
    }

    private Optional<Versioned<Product>> load(long id) {
        return findTimer.record(() -> products.findById(id)).map(product -> new Versioned<>(product, product.version()));
    }

    private ClientResponse putProduct(ClientRequest request, long id) throws InvalidInputException {
        ProductUpdate update = ProductUpdateParser.parse(request.body());
        Optional<Product> updated = updateTimer.record(() -> products.update(id, update));
        if (updated.isEmpty()) {
            return productNotFound(request, id);
        }
        // Evict here at once; the invalidation from change data capture reaches the other servers later.
        cache.invalidate(id, updated.get().version());
        return ok(request, updated.get());
    }

    private ClientResponse ok(ClientRequest request, Product product) {
        String body;
        try {
            body = Json.mapper().writeValueAsString(product);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write product " + product.id() + " as JSON", e);
        }
        return new ClientResponse(ClientResponse.SCHEMA_VERSION, request.requestId(), 200, JSON_HEADERS, body, serverId,
                clock.millis());
    }

    private ClientResponse productNotFound(ClientRequest request, long id) {
        return error(request, 404, "not_found", "product " + id + " not found", Map.of("id", Long.toString(id)));
    }

    private ClientResponse methodNotAllowed(ClientRequest request) {
        ClientResponse error = error(request, 405, "method_not_allowed", "method " + request.method()
                + " is not allowed on " + InvalidInputException.shorten(request.path()) + "; allowed: " + ALLOWED_METHODS,
                Map.of("allow", ALLOWED_METHODS));
        var headers = new LinkedHashMap<>(error.headers());
        headers.put("allow", ALLOWED_METHODS);
        return new ClientResponse(error.schemaVersion(), error.requestId(), error.status(), headers, error.body(),
                error.servedBy(), error.answeredAtMs());
    }

    private ClientResponse storageFailure(ClientRequest request, StorageException e) {
        if (!e.retriable()) {
            log.error("Request {} ({} {}) failed in the database", request.requestId(), request.method(), request.path(), e);
            return error(request, 500, "internal_error", "the database rejected the request", Map.of());
        }
        storageWarning.warn("Database unavailable, answering 503 to request {}: {}", request.requestId(), e.getMessage());
        ClientResponse error = error(request, 503, "unavailable", "the database is unavailable; try again later", Map.of());
        var headers = new LinkedHashMap<>(error.headers());
        headers.put("retry-after", "1");
        return new ClientResponse(error.schemaVersion(), error.requestId(), error.status(), headers, error.body(),
                error.servedBy(), error.answeredAtMs());
    }

    private ClientResponse error(ClientRequest request, int status, String error, String message, Map<String, String> fields) {
        return ClientResponse.error(request.requestId(), status, error, message, fields, serverId, clock.millis());
    }
}
