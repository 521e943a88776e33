package dev.backbone.appserver;

import dev.backbone.events.ClientRequest;
import dev.backbone.events.ClientResponse;
import dev.backbone.storage.CategoryPage;
import dev.backbone.storage.NewProduct;
import dev.backbone.storage.Product;
import dev.backbone.storage.ProductRepository;
import dev.backbone.storage.ProductUpdate;
import dev.backbone.storage.TieredCache;
import dev.backbone.storage.WriteResult;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The product catalogue: {@code GET}, {@code PUT} and {@code DELETE /products/{id}}, {@code POST /products} and
 * {@code GET /categories/{id}/products}. Reads go through the cache tiers; writes need a bearer token, run in one
 * transaction, take an optional {@code If-Match} precondition on the row version and invalidate the cache tiers of
 * the row before they respond. Thread-safe.
 *
 * <p>NOTE: category pages are read from PostgreSQL every time and not cached, so the {@code category:ID}
 * invalidations of the cache invalidator have nothing to evict here.
 */
final class ProductEndpoints {

    static final int DEFAULT_PAGE_SIZE = 20;
    /** Deep pages scan every row before them, so the page number is bounded. */
    static final int MAX_PAGE = 10_000;
    static final String CACHE_HEADER = "x-backbone-cache";

    private final ProductRepository repository;
    private final TieredCache<Product> cache;
    private final Authenticator authenticator;
    private final QueryTimers timers;
    private final Responses responses;
    private final CdnConfig cdn;

    ProductEndpoints(ProductRepository repository, TieredCache<Product> cache, Authenticator authenticator,
                     QueryTimers timers, Responses responses, CdnConfig cdn) {
        this.repository = repository;
        this.cache = cache;
        this.authenticator = authenticator;
        this.timers = timers;
        this.responses = responses;
        this.cdn = cdn;
    }

    ClientResponse get(ClientRequest request, long id) {
        TieredCache.Read<Product> read = cache.get(Product.cacheKey(id));
        Map<String, String> cacheHeader = Map.of(CACHE_HEADER, read.tier().tag());
        if (read.value().isEmpty()) {
            return Responses.withHeaders(notFound(request, id), cacheHeader);
        }
        Product product = read.value().get();
        var headers = new LinkedHashMap<>(cacheHeader);
        // Edges may keep a product read because the invalidator purges these surrogate keys after every change of the row.
        headers.put("cache-control", cdn.sharedCacheControl());
        headers.put("surrogate-key", Product.cacheKey(id) + " category:" + product.categoryId());
        return found(request, 200, product, headers);
    }

    ClientResponse create(ClientRequest request) throws InvalidInputException, InvalidTokenException {
        authenticator.authenticate(request);
        NewProduct product = ProductBodyParser.parseNew(request.body());
        WriteResult<Product> result = timers.time("product.insert", () -> repository.insert(product));
        if (result.status() == WriteResult.Status.CATEGORY_NOT_FOUND) {
            String value = Long.toString(product.categoryId());
            throw new InvalidInputException("category " + value + " does not exist", "categoryId", value,
                    "the id of an existing category");
        }
        Product created = result.row();
        // Evicts a cached "not found" of this id here at once; other servers evict it when the insert's
        // invalidation arrives or when their negative entry expires.
        cache.invalidateAfterWrite(created.cacheKey(), created.version());
        return found(request, 201, created, Map.of("location", RequestHandler.PRODUCTS_PREFIX + created.id()));
    }

    ClientResponse update(ClientRequest request, long id) throws InvalidInputException, InvalidTokenException {
        authenticator.authenticate(request);
        IfMatch precondition = IfMatch.parse(request.header(IfMatch.HEADER));
        ProductUpdate update = ProductBodyParser.parseUpdate(request.body());
        WriteResult<Product> result = timers.time("product.update", () -> repository.update(id, update, precondition.version()));
        if (result.status() != WriteResult.Status.WRITTEN) {
            return notWritten(request, id, precondition, result);
        }
        // Evict here at once; the invalidation from change data capture reaches the other servers later.
        cache.invalidateAfterWrite(result.row().cacheKey(), result.row().version());
        return found(request, 200, result.row(), Map.of());
    }

    ClientResponse delete(ClientRequest request, long id) throws InvalidInputException, InvalidTokenException {
        authenticator.authenticate(request);
        IfMatch precondition = IfMatch.parse(request.header(IfMatch.HEADER));
        WriteResult<Product> result = timers.time("product.delete", () -> repository.delete(id, precondition.version()));
        if (result.status() != WriteResult.Status.WRITTEN) {
            return notWritten(request, id, precondition, result);
        }
        cache.invalidateAfterWrite(Product.cacheKey(id), -1);
        return responses.response(request, 204, Map.of(), "");
    }

    ClientResponse categoryPage(ClientRequest request, long categoryId) throws InvalidInputException {
        QueryParameters parameters = QueryParameters.parse(request.query());
        int page = parameters.integer("page", 1, 1, MAX_PAGE);
        int size = parameters.integer("size", DEFAULT_PAGE_SIZE, 1, ProductRepository.MAX_PAGE_SIZE);
        Optional<CategoryPage> found = timers.time("category.products", () -> repository.findByCategory(categoryId, page, size));
        if (found.isEmpty()) {
            return responses.notFound(request, "category " + categoryId, Map.of("id", Long.toString(categoryId)));
        }
        CategoryPage result = found.get();
        var body = new LinkedHashMap<String, Object>();
        body.put("categoryId", result.category().id());
        body.put("categoryName", result.category().name());
        body.put("page", result.page());
        body.put("size", result.size());
        body.put("hasMore", result.hasMore());
        body.put("products", result.products());
        return responses.json(request, 200, body, Map.of());
    }

    private ClientResponse notWritten(ClientRequest request, long id, IfMatch precondition, WriteResult<Product> result) {
        if (result.status() == WriteResult.Status.VERSION_MISMATCH) {
            String current = Long.toString(result.currentVersion());
            ClientResponse failed = responses.error(request, 412, "precondition_failed", "product " + id + " is at version "
                    + current + ", not the one If-Match names; read it again and retry with its ETag",
                    Map.of("currentVersion", current));
            return Responses.withHeaders(failed, Map.of("etag", IfMatch.etag(result.currentVersion())));
        }
        if (precondition.present()) {
            // If-Match: * (or any tag) on a missing row fails the precondition rather than reporting 404 (RFC 9110).
            return responses.error(request, 412, "precondition_failed", "product " + id + " does not exist, so If-Match"
                    + " cannot match", Map.of("id", Long.toString(id)));
        }
        return notFound(request, id);
    }

    private ClientResponse found(ClientRequest request, int status, Product product, Map<String, String> headers) {
        var allHeaders = new LinkedHashMap<>(headers);
        allHeaders.put("etag", IfMatch.etag(product.version()));
        return responses.json(request, status, product, allHeaders);
    }

    private ClientResponse notFound(ClientRequest request, long id) {
        return responses.notFound(request, "product " + id, Map.of("id", Long.toString(id)));
    }
}
