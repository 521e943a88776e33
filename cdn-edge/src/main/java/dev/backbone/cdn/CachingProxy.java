package dev.backbone.cdn;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge's request logic: serves GET and HEAD from the {@link EdgeCache} when it can, fetches from the origin when
 * it must, and passes every other request through.
 *
 * <ul>
 *   <li>Cache key: method (HEAD shares GET's entries), lower-case host, path as sent, and the query as
 *       {@link QueryNormalizer} normalizes it; the origin's {@code Vary} selects a variant within the key.</li>
 *   <li>Concurrent misses of one key and variant wait for one origin fetch. A request does not wait for a fetch that
 *       started before a purge, because that fetch may return what the purge removed.</li>
 *   <li>A stale response within {@code stale-while-revalidate} is served at once while one background fetch
 *       refreshes it. Beyond that window the edge revalidates with the stored {@code ETag} or {@code Last-Modified}
 *       and serves the stale response when the origin fails within {@code stale-if-error}.</li>
 *   <li>Requests with {@code Authorization} and methods other than GET and HEAD pass through; a successful unsafe
 *       method removes the cached responses of its URL (RFC 9111 section 4.4).</li>
 * </ul>
 * Thread-safe; a request blocks its thread while it waits for the origin.
 */
final class CachingProxy implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CachingProxy.class);
    private static final long WARNING_INTERVAL_MS = 10_000;
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS", "TRACE");

    /** The outcome of one origin fetch, shared with the requests coalesced onto it. */
    private record FetchOutcome(int status, List<Header> headers, byte[] body, CachedResponse cached, CacheResult result,
            boolean shareable, EdgeRequest leader) {

        static FetchOutcome fromCache(CachedResponse cached, CacheResult result, EdgeRequest leader) {
            return new FetchOutcome(cached.status(), cached.headers(), cached.body(), cached, result, true, leader);
        }

        /** Returns whether a coalesced request may receive this outcome: same variant, and shareable at all. */
        boolean shareableWith(EdgeRequest follower) {
            if (!shareable) {
                return false;
            }
            List<String> varyNames = CachePolicy.varyNames(headers);
            return VariantKey.of(varyNames, follower::header).equals(VariantKey.of(varyNames, leader::header));
        }
    }

    /** One origin fetch in flight, which requests for the same key and variant wait for. */
    private static final class Flight {
        final long ticket;
        final CompletableFuture<FetchOutcome> outcome = new CompletableFuture<>();

        Flight(long ticket) {
            this.ticket = ticket;
        }
    }

    private final EdgeConfig config;
    private final EdgeCache cache;
    private final OriginClient origin;
    private final EdgeMetrics metrics;
    private final Clock clock;
    private final ConcurrentHashMap<String, Flight> inFlight = new ConcurrentHashMap<>();
    private final ThreadPoolExecutor refresher;
    private final AtomicInteger coalescedWaiting = new AtomicInteger();
    private final AtomicLong lastWarningMs = new AtomicLong();
    private final AtomicLong failuresSinceWarning = new AtomicLong();

    CachingProxy(EdgeConfig config, EdgeCache cache, OriginClient origin, EdgeMetrics metrics, Clock clock) {
        this.config = config;
        this.cache = cache;
        this.origin = origin;
        this.metrics = metrics;
        this.clock = clock;
        var threadNumber = new AtomicInteger();
        // Background refreshes beyond the queue are dropped: the stale response keeps being served until one runs.
        this.refresher = new ThreadPoolExecutor(2, 2, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(1_000),
                runnable -> new Thread(runnable, "edge-refresh-" + config.region() + "-" + threadNumber.incrementAndGet()),
                new ThreadPoolExecutor.AbortPolicy());
    }

    EdgeResponse handle(EdgeRequest request) throws InterruptedException {
        boolean cacheable = request.method().equals("GET") || request.method().equals("HEAD");
        if (!cacheable || request.header("Authorization") != null) {
            return count(pass(request));
        }
        String cacheKey = cacheKey(request);
        Optional<CachedResponse> stored = cache.lookup(cacheKey, request::header);
        long nowMs = clock.millis();
        if (stored.isPresent()) {
            CachedResponse cached = stored.get();
            if (cached.isFresh(nowMs)) {
                return count(answer(request, FetchOutcome.fromCache(cached, CacheResult.HIT, request)));
            }
            if (cached.servableWhileRevalidating(nowMs)) {
                refreshInBackground(request, cacheKey, cached);
                return count(answer(request, FetchOutcome.fromCache(cached, CacheResult.STALE, request)));
            }
            return count(answer(request, fetchCoalesced(request, cacheKey, cached)));
        }
        return count(answer(request, fetchCoalesced(request, cacheKey, null)));
    }

    private EdgeResponse count(EdgeResponse response) {
        metrics.request(response.result());
        return response;
    }

    static String cacheKey(EdgeRequest request) {
        return "GET " + request.host().toLowerCase(Locale.ROOT) + request.rawPath() + "?" + QueryNormalizer.normalize(request.rawQuery());
    }

    private String flightKey(EdgeRequest request, String cacheKey) {
        return cacheKey + "\n" + VariantKey.of(cache.varyNames(cacheKey), request::header);
    }

    private FetchOutcome fetchCoalesced(EdgeRequest request, String cacheKey, CachedResponse stale) throws InterruptedException {
        String flightKey = flightKey(request, cacheKey);
        while (true) {
            Flight mine = new Flight(cache.beginFetch());
            Flight leader = inFlight.putIfAbsent(flightKey, mine);
            if (leader == null) {
                return lead(request, cacheKey, stale, flightKey, mine);
            }
            cache.endFetch(mine.ticket);
            if (cache.purgedSince(leader.ticket)) {
                // The fetch in flight may return what the purge removed, so this request starts a fetch of its own.
                inFlight.remove(flightKey, leader);
                continue;
            }
            Optional<FetchOutcome> shared = await(leader);
            if (shared.isPresent() && shared.get().shareableWith(request)) {
                return shared.get();
            }
            return fetchAlone(request, cacheKey, stale);
        }
    }

    private FetchOutcome lead(EdgeRequest request, String cacheKey, CachedResponse stale, String flightKey, Flight mine)
            throws InterruptedException {
        try {
            FetchOutcome outcome = fetchAndStore(request, cacheKey, stale, mine.ticket);
            mine.outcome.complete(outcome);
            return outcome;
        } catch (RuntimeException | InterruptedException e) {
            mine.outcome.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(flightKey, mine);
            cache.endFetch(mine.ticket);
        }
    }

    private FetchOutcome fetchAlone(EdgeRequest request, String cacheKey, CachedResponse stale) throws InterruptedException {
        long ticket = cache.beginFetch();
        try {
            return fetchAndStore(request, cacheKey, stale, ticket);
        } finally {
            cache.endFetch(ticket);
        }
    }

    private Optional<FetchOutcome> await(Flight leader) throws InterruptedException {
        coalescedWaiting.incrementAndGet();
        try {
            return Optional.of(leader.outcome.get(config.originTimeoutMs() + 2_000, TimeUnit.MILLISECONDS));
        } catch (ExecutionException | TimeoutException e) {
            return Optional.empty();
        } finally {
            coalescedWaiting.decrementAndGet();
        }
    }

    /** Returns how many requests wait for another request's origin fetch right now. */
    int coalescedWaiting() {
        return coalescedWaiting.get();
    }

    private void refreshInBackground(EdgeRequest request, String cacheKey, CachedResponse stale) {
        String flightKey = flightKey(request, cacheKey);
        Flight mine = new Flight(cache.beginFetch());
        if (inFlight.putIfAbsent(flightKey, mine) != null) {
            cache.endFetch(mine.ticket);
            return;
        }
        try {
            refresher.execute(() -> {
                try {
                    mine.outcome.complete(fetchAndStore(request, cacheKey, stale, mine.ticket));
                } catch (InterruptedException e) {
                    mine.outcome.completeExceptionally(e);
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    mine.outcome.completeExceptionally(e);
                    log.warn("Background refresh of {} failed: {}", cacheKey, e.toString());
                } finally {
                    inFlight.remove(flightKey, mine);
                    cache.endFetch(mine.ticket);
                }
            });
        } catch (RejectedExecutionException e) {
            inFlight.remove(flightKey, mine);
            cache.endFetch(mine.ticket);
        }
    }

    /** Fetches a cacheable request from the origin, revalidating {@code stale} when given, and stores the result. */
    private FetchOutcome fetchAndStore(EdgeRequest request, String cacheKey, CachedResponse stale, long ticket)
            throws InterruptedException {
        List<Header> headers = forwardedHeaders(request, true);
        if (stale != null && stale.etag() != null) {
            headers.add(new Header("If-None-Match", stale.etag()));
        }
        if (stale != null && stale.lastModified() != null) {
            headers.add(new Header("If-Modified-Since", stale.lastModified()));
        }
        OriginClient.OriginResponse response;
        try {
            response = origin.fetch("GET", originPath(request, true), originHost(request), headers, null);
            metrics.originFetch(response.status());
        } catch (OriginClient.OriginException e) {
            metrics.originFailure(e.kind());
            warnRateLimited(cacheKey, e);
            if (stale != null && stale.servableOnError(clock.millis())) {
                return FetchOutcome.fromCache(stale, CacheResult.STALE, request);
            }
            int status = e.kind() == OriginClient.OriginException.Kind.TIMEOUT ? 504 : 502;
            EdgeResponse error = ClientResponses.error(status, e.getMessage(), CacheResult.MISS);
            return new FetchOutcome(status, error.headers(), error.body(), null, CacheResult.MISS, true, request);
        }

        long nowMs = clock.millis();
        if (response.status() == 304 && stale != null) {
            Optional<CachedResponse> updated = CachePolicy.revalidated(stale, response.headers(), nowMs);
            if (updated.isEmpty()) {
                return new FetchOutcome(stale.status(), stale.headers(), stale.body(), null, CacheResult.REVALIDATED, false, request);
            }
            store(cacheKey, updated.get(), ticket, nowMs);
            return FetchOutcome.fromCache(updated.get(), CacheResult.REVALIDATED, request);
        }
        if (response.status() >= 500 && stale != null && stale.servableOnError(nowMs)) {
            return FetchOutcome.fromCache(stale, CacheResult.STALE, request);
        }
        Optional<CachedResponse> storable = CachePolicy.storable(response.status(), response.headers(), response.body(),
                request::header, nowMs);
        if (storable.isPresent()) {
            // Served to this request even when a purge discards it: the request started before the purge.
            store(cacheKey, storable.get(), ticket, nowMs);
            return FetchOutcome.fromCache(storable.get(), CacheResult.MISS, request);
        }
        return new FetchOutcome(response.status(), response.headers(), response.body(), null, CacheResult.MISS,
                response.status() >= 500, request);
    }

    private void store(String cacheKey, CachedResponse response, long ticket, long nowMs) {
        if (cache.store(cacheKey, response, ticket, nowMs) == EdgeCache.StoreOutcome.DISCARDED) {
            metrics.fetchDiscarded();
        }
    }

    private EdgeResponse pass(EdgeRequest request) throws InterruptedException {
        OriginClient.OriginResponse response;
        try {
            response = origin.fetch(request.method(), originPath(request, false), originHost(request),
                    forwardedHeaders(request, false), request.body());
            metrics.originFetch(response.status());
        } catch (OriginClient.OriginException e) {
            metrics.originFailure(e.kind());
            warnRateLimited(request.method() + " " + request.rawPath(), e);
            int status = e.kind() == OriginClient.OriginException.Kind.TIMEOUT ? 504 : 502;
            return ClientResponses.error(status, e.getMessage(), CacheResult.PASS);
        }
        if (!SAFE_METHODS.contains(request.method()) && response.status() < 400) {
            cache.invalidate(cacheKey(request));
        }
        return ClientResponses.build(request, response.status(), response.headers(), response.body(), 0, CacheResult.PASS);
    }

    private EdgeResponse answer(EdgeRequest request, FetchOutcome outcome) {
        long ageSeconds = outcome.cached() == null ? 0 : outcome.cached().ageSeconds(clock.millis());
        return ClientResponses.build(request, outcome.status(), outcome.headers(), outcome.body(), ageSeconds, outcome.result());
    }

    /**
     * Returns the headers sent to the origin: the client's end-to-end headers without its edge token, then this
     * edge's token and region. A cacheable fetch leaves out the client's conditional and range headers, because the
     * edge fetches and stores whole responses and evaluates those headers itself.
     */
    private List<Header> forwardedHeaders(EdgeRequest request, boolean cacheable) {
        List<Header> headers = new ArrayList<>();
        for (Header header : request.headers()) {
            String name = header.name();
            if (EdgeHeaders.isHopByHop(name) || name.equalsIgnoreCase(EdgeHeaders.EDGE_TOKEN)
                    || name.equalsIgnoreCase(EdgeHeaders.EDGE_REGION) || cacheable && EdgeHeaders.isConditionalRequest(name)) {
                continue;
            }
            headers.add(header);
        }
        if (!config.edgeToken().isEmpty()) {
            headers.add(new Header(EdgeHeaders.EDGE_TOKEN, config.edgeToken()));
        }
        headers.add(new Header(EdgeHeaders.EDGE_REGION, config.region()));
        return headers;
    }

    private String originHost(EdgeRequest request) {
        return config.originHost().isEmpty() ? request.host() : config.originHost();
    }

    /** Returns the path and query sent to the origin: the normalized query on cacheable fetches, the raw one otherwise. */
    private static String originPath(EdgeRequest request, boolean normalized) {
        String query = normalized ? QueryNormalizer.normalize(request.rawQuery()) : request.rawQuery();
        return query == null || query.isEmpty() ? request.rawPath() : request.rawPath() + "?" + query;
    }

    private void warnRateLimited(String target, OriginClient.OriginException error) {
        long failures = failuresSinceWarning.incrementAndGet();
        long nowMs = clock.millis();
        long last = lastWarningMs.get();
        if (nowMs - last < WARNING_INTERVAL_MS || !lastWarningMs.compareAndSet(last, nowMs)) {
            return;
        }
        failuresSinceWarning.set(0);
        log.warn("Origin fetch for {} failed ({} failures since the last warning); check origin.url={}: {}",
                target, failures, config.originUrl(), error.getMessage());
    }

    /** Stops the background refreshes. Idempotent. */
    @Override
    public void close() {
        refresher.shutdownNow();
    }
}
