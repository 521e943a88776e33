package dev.backbone.appserver;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.storage.RateLimitedWarning;
import dev.backbone.storage.StorageException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one client request into its response: dispatches on method and path to the endpoints, and turns every
 * exception into a JSON error response, so {@link #handle} throws only a JVM {@link Error}. Thread-safe.
 *
 * <p>Routes: {@code GET, PUT, DELETE /products/{id}}, {@code POST /products}, {@code GET /categories/{id}/products},
 * {@code GET /accounts/{id}} and {@code GET /static/{path}}.
 */
final class RequestHandler {

    private static final Logger log = LoggerFactory.getLogger(RequestHandler.class);

    static final String PRODUCTS_PREFIX = "/products/";
    static final String KNOWN_PATHS = "/products, /products/{id}, /categories/{id}/products, /accounts/{id}, /static/{path}";
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,19}");
    private static final String ID_ACCEPTED = "an integer from 0 to " + Long.MAX_VALUE;
    private static final Pattern PRODUCT = Pattern.compile("/products/([^/]+)");
    private static final Pattern CATEGORY_PRODUCTS = Pattern.compile("/categories/([^/]+)/products");
    private static final Pattern ACCOUNT = Pattern.compile("/accounts/([^/]+)");
    /** Status classes counted, indexed by status / 100 - 1. */
    private static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};

    private final ProductEndpoints products;
    private final AccountEndpoints accounts;
    private final StaticEndpoints statics;
    private final Responses responses;
    private final LongAdder[] answered = new LongAdder[STATUS_CLASSES.length];
    private final Counter[] answeredCounters = new Counter[STATUS_CLASSES.length];
    private final RateLimitedWarning storageWarning;

    RequestHandler(ProductEndpoints products, AccountEndpoints accounts, StaticEndpoints statics, Responses responses,
                   Clock clock, MeterRegistry registry) {
        this.products = products;
        this.accounts = accounts;
        this.statics = statics;
        this.responses = responses;
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
        } catch (InvalidInputException e) {
            response = responses.invalid(request, e);
        } catch (InvalidTokenException e) {
            response = Authenticator.unauthorized(responses, request, e);
        } catch (StorageException e) {
            response = storageFailure(request, e);
        } catch (RuntimeException e) {
            log.error("Request {} ({} {}) failed", request.requestId(), request.method(), request.path(), e);
            response = responses.error(request, 500, "internal_error", "the app server failed to handle the request", Map.of());
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

    private ClientResponse dispatch(ClientRequest request) throws InvalidInputException, InvalidTokenException {
        String path = request.path();
        String method = request.method();
        if (path.equals("/products")) {
            return method.equals("POST") ? products.create(request) : methodNotAllowed(request, "POST");
        }
        Matcher product = PRODUCT.matcher(path);
        if (product.matches()) {
            return switch (method) {
                case "GET" -> products.get(request, parseId(product.group(1), "product"));
                case "PUT" -> products.update(request, parseId(product.group(1), "product"));
                case "DELETE" -> products.delete(request, parseId(product.group(1), "product"));
                default -> methodNotAllowed(request, "GET, PUT, DELETE");
            };
        }
        Matcher category = CATEGORY_PRODUCTS.matcher(path);
        if (category.matches()) {
            return method.equals("GET") ? products.categoryPage(request, parseId(category.group(1), "category"))
                    : methodNotAllowed(request, "GET");
        }
        Matcher account = ACCOUNT.matcher(path);
        if (account.matches()) {
            return method.equals("GET") ? accounts.get(request, parseId(account.group(1), "account"))
                    : methodNotAllowed(request, "GET");
        }
        if (path.startsWith(StaticEndpoints.PREFIX + "/")) {
            return method.equals("GET") ? statics.get(request) : methodNotAllowed(request, "GET");
        }
        return responses.error(request, 404, "not_found", "no resource at " + InvalidInputException.shorten(path)
                + "; known paths: " + KNOWN_PATHS, Map.of("path", InvalidInputException.shorten(path)));
    }

    /** @param entity what the id names, such as {@code product}, for the message */
    static long parseId(String text, String entity) throws InvalidInputException {
        if (DIGITS.matcher(text).matches()) {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                // 19 digits above Long.MAX_VALUE: reported below like any other invalid id.
            }
        }
        String shortValue = InvalidInputException.shorten(text);
        throw new InvalidInputException(entity + " id " + shortValue + " is invalid; accepted: " + ID_ACCEPTED, "id", text, ID_ACCEPTED);
    }

    private ClientResponse methodNotAllowed(ClientRequest request, String allowed) {
        ClientResponse error = responses.error(request, 405, "method_not_allowed", "method " + request.method()
                + " is not allowed on " + InvalidInputException.shorten(request.path()) + "; allowed: " + allowed,
                Map.of("allow", allowed));
        return Responses.withHeaders(error, Map.of("allow", allowed));
    }

    private ClientResponse storageFailure(ClientRequest request, StorageException e) {
        if (!e.retriable()) {
            log.error("Request {} ({} {}) failed in the database", request.requestId(), request.method(), request.path(), e);
            return responses.error(request, 500, "internal_error", "the database rejected the request", Map.of());
        }
        storageWarning.warn("Database unavailable, answering 503 to request {}: {}", request.requestId(), e.getMessage());
        ClientResponse error = responses.error(request, 503, "unavailable", "the database is unavailable; try again later", Map.of());
        return Responses.withHeaders(error, Map.of("retry-after", "1"));
    }
}
