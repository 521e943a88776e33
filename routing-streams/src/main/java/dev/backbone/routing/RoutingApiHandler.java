package dev.backbone.routing;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routes of the routing REST API. Every response is JSON except {@code /metrics}, and every error is
 * {@code {"error": ..., "message": ..., ...}} with the fields that name the problem.
 *
 * <pre>
 * PUT    /api/dns/records                  admin: put a record (JSON body), answer the stored record
 * DELETE /api/dns/records/{scope}/{name}   admin: delete a record; 404 when there is none
 * GET    /api/dns/records?prefix=&amp;scope=&amp;limit=   list records by name prefix
 * GET    /api/dns/resolve?name=&amp;client=&amp;region=&amp;country=   resolve a name for a client, with its cache entry
 * GET    /api/lb/pools/{pool}              members of a pool with state, last heartbeat, weight and partitions
 * GET    /api/lb/route?pool=&amp;key=          the server a routing key maps to now, and its preference order
 * GET    /api/lb/load?pool=&amp;local=         requests routed to each server over 1 and 5 minutes, summed over all
 *                                          instances, or this instance's only with local=true
 * GET    /api/traces/{requestId}?local=   the routing trace of a request, from whichever instance has it
 * GET    /metrics                          Prometheus text, when the registry is a PrometheusMeterRegistry
 * GET    /openapi.json                     the OpenAPI 3.0 document of these routes
 * </pre>
 *
 * Admin routes need {@code Authorization: Bearer <admin.token>}: 401 with {@code WWW-Authenticate} without a valid
 * token, 403 when {@code admin.token} is not configured. Listing, resolving and the load-balancer queries need no
 * token, because they show what any client of the front door can already find out by sending requests.
 */
final class RoutingApiHandler extends Handler.Abstract {

    static final String RECORDS_PATH = "/api/dns/records";
    static final String RESOLVE_PATH = "/api/dns/resolve";
    static final String METRICS_PATH = "/metrics";
    static final String LB_POOLS_PATH = "/api/lb/pools";
    static final String LB_ROUTE_PATH = "/api/lb/route";
    static final String LB_LOAD_PATH = "/api/lb/load";
    static final String TRACES_PATH = "/api/traces";
    static final String OPENAPI_PATH = "/openapi.json";
    /** Every route served, as {@code METHOD path} with OpenAPI path templates; the OpenAPI document lists the same. */
    static final List<String> ROUTES = List.of(
            "GET " + RECORDS_PATH,
            "PUT " + RECORDS_PATH,
            "DELETE " + RECORDS_PATH + "/{scope}/{name}",
            "GET " + RESOLVE_PATH,
            "GET " + LB_POOLS_PATH + "/{pool}",
            "GET " + LB_ROUTE_PATH,
            "GET " + LB_LOAD_PATH,
            "GET " + TRACES_PATH + "/{requestId}",
            "GET " + METRICS_PATH,
            "GET " + OPENAPI_PATH);
    /** Classpath resource of the OpenAPI document. */
    static final String OPENAPI_RESOURCE = "/dev/backbone/routing/openapi.json";
    /** Largest request body read: 1000 addresses of 255 characters fit with room to spare. */
    static final int MAX_BODY_BYTES = 1 << 20;
    private static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final Logger log = LoggerFactory.getLogger(RoutingApiHandler.class);

    private final DnsAdminApi admin;
    private final DnsQueryApi queries;
    private final LoadBalancerQueryApi loadBalancer;
    private final TraceQueryApi traces;
    private final MeterRegistry registry;
    private final AdminToken adminToken;
    private final String self;

    /** @param adminToken the token admin routes require, or null to reject them with 403 */
    RoutingApiHandler(DnsAdminApi admin, DnsQueryApi queries, LoadBalancerQueryApi loadBalancer, MeterRegistry registry,
                      AdminToken adminToken, String self) {
        this(admin, queries, loadBalancer, null, registry, adminToken, self);
    }

    /** @param adminToken the token admin routes require, or null to reject them with 403 */
    RoutingApiHandler(DnsAdminApi admin, DnsQueryApi queries, LoadBalancerQueryApi loadBalancer, TraceQueryApi traces,
                      MeterRegistry registry, AdminToken adminToken, String self) {
        this.admin = admin;
        this.queries = queries;
        this.loadBalancer = loadBalancer;
        this.traces = traces;
        this.registry = registry;
        this.adminToken = adminToken;
        this.self = self;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        ApiReply reply;
        try {
            reply = route(request);
        } catch (ApiException e) {
            discardBody(request);
            e.headers().forEach((name, value) -> response.getHeaders().put(name, value));
            reply = ApiReply.error(e);
        } catch (RuntimeException e) {
            log.error("REST request {} {} failed", request.getMethod(), Request.getPathInContext(request), e);
            reply = ApiReply.json(500, Map.of("error", "internal_error", "message",
                    "the request failed on " + self + ": " + e.getClass().getSimpleName() + "; see its log"));
        }
        response.setStatus(reply.status());
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, reply.contentType());
        response.getHeaders().put("X-Answered-By", self);
        response.write(true, ByteBuffer.wrap(reply.body()), callback);
        return true;
    }

    private ApiReply route(Request request) {
        String method = request.getMethod().toUpperCase(Locale.ROOT);
        String path = Request.getPathInContext(request);
        if (path.equals(RECORDS_PATH)) {
            return switch (method) {
                case "GET" -> {
                    Fields query = Request.extractQueryParameters(request);
                    yield admin.list(query.getValue("prefix"), query.getValue("scope"), query.getValue("limit"));
                }
                case "PUT" -> {
                    requireAdmin(request);
                    yield admin.put(readBody(request));
                }
                default -> throw ApiException.methodNotAllowed(method, path, "GET, PUT");
            };
        }
        if (path.startsWith(RECORDS_PATH + "/")) {
            if (!method.equals("DELETE")) {
                throw ApiException.methodNotAllowed(method, path, "DELETE");
            }
            requireAdmin(request);
            return admin.delete(path.substring(RECORDS_PATH.length() + 1));
        }
        if (path.equals(RESOLVE_PATH)) {
            if (!method.equals("GET")) {
                throw ApiException.methodNotAllowed(method, path, "GET");
            }
            Fields query = Request.extractQueryParameters(request);
            return queries.resolve(query.getValue("name"), query.getValue("client"), query.getValue("region"),
                    query.getValue("country"), request.getHeaders().get(DnsQueryApi.FORWARDED_BY_HEADER));
        }
        if (path.startsWith(LB_POOLS_PATH + "/") || path.equals(LB_ROUTE_PATH) || path.equals(LB_LOAD_PATH)) {
            return routeLoadBalancerQuery(request, method, path);
        }
        if (path.startsWith(TRACES_PATH + "/")) {
            if (!method.equals("GET")) {
                throw ApiException.methodNotAllowed(method, path, "GET");
            }
            if (traces == null) {
                throw ApiException.notFound("routing traces are not served by this handler", Map.of("path", path));
            }
            // Jetty has decoded the path already.
            return traces.trace(path.substring(TRACES_PATH.length() + 1),
                    Request.extractQueryParameters(request).getValue(InstancePeers.LOCAL_PARAMETER));
        }
        if (path.equals(OPENAPI_PATH)) {
            if (!method.equals("GET")) {
                throw ApiException.methodNotAllowed(method, path, "GET");
            }
            return new ApiReply(200, ApiReply.JSON, openApiDocument());
        }
        if (path.equals(METRICS_PATH)) {
            if (!method.equals("GET")) {
                throw ApiException.methodNotAllowed(method, path, "GET");
            }
            if (registry instanceof PrometheusMeterRegistry prometheus) {
                return ApiReply.text(PROMETHEUS_CONTENT_TYPE, prometheus.scrape());
            }
            throw ApiException.notFound("this instance has no Prometheus registry; its meters are in a "
                    + registry.getClass().getSimpleName(), Map.of("path", path));
        }
        throw ApiException.notFound("no route " + path + "; routes: " + String.join(", ", ROUTES) + "; see "
                + OPENAPI_PATH, Map.of("path", path));
    }

    private ApiReply routeLoadBalancerQuery(Request request, String method, String path) {
        if (!method.equals("GET")) {
            throw ApiException.methodNotAllowed(method, path, "GET");
        }
        Fields query = Request.extractQueryParameters(request);
        if (path.equals(LB_ROUTE_PATH)) {
            return loadBalancer.route(query.getValue("pool"), query.getValue("key"));
        }
        if (path.equals(LB_LOAD_PATH)) {
            return loadBalancer.load(query.getValue("pool"), query.getValue(InstancePeers.LOCAL_PARAMETER));
        }
        // Jetty has decoded the path already.
        return loadBalancer.pool(path.substring(LB_POOLS_PATH.length() + 1));
    }

    private void requireAdmin(Request request) {
        if (adminToken == null) {
            throw ApiException.forbidden("the admin endpoints are disabled on " + self + "; set admin.token "
                    + "(environment variable BACKBONE_ADMIN_TOKEN) to at least " + AdminToken.MIN_LENGTH
                    + " characters to enable them");
        }
        String authorization = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (authorization == null || authorization.isBlank()) {
            throw ApiException.unauthorized("missing Authorization header; send 'Authorization: Bearer <admin.token>'");
        }
        String prefix = "bearer ";
        if (authorization.length() <= prefix.length()
                || !authorization.substring(0, prefix.length()).toLowerCase(Locale.ROOT).equals(prefix)) {
            throw ApiException.unauthorized("the Authorization header is not a bearer token; send "
                    + "'Authorization: Bearer <admin.token>'");
        }
        if (!adminToken.matches(authorization.substring(prefix.length()).trim())) {
            log.warn("Rejected an admin request {} {} from {} with a wrong token", request.getMethod(),
                    Request.getPathInContext(request), Request.getRemoteAddr(request));
            throw ApiException.unauthorized("the bearer token does not match admin.token");
        }
    }

    /** Reads the OpenAPI document from the classpath. */
    static byte[] openApiDocument() {
        try (InputStream document = RoutingApiHandler.class.getResourceAsStream(OPENAPI_RESOURCE)) {
            if (document == null) {
                throw new IllegalStateException("resource " + OPENAPI_RESOURCE + " is missing from the routing-streams jar");
            }
            return document.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + OPENAPI_RESOURCE, e);
        }
    }

    /**
     * Reads and drops the rest of a request body of at most {@link #MAX_BODY_BYTES} before an error response. Jetty
     * closes a connection with unread content after the response, without Connection: close, so a client that sent its
     * next request on it got "header parser received no bytes" from {@code java.net.http.HttpClient}.
     */
    private static void discardBody(Request request) {
        long length = request.getLength();
        if (length == 0 || length > MAX_BODY_BYTES) {
            return;
        }
        try (InputStream body = Content.Source.asInputStream(request)) {
            byte[] buffer = new byte[8192];
            long read = 0;
            for (int n; read <= MAX_BODY_BYTES && (n = body.read(buffer)) >= 0; ) {
                read += n;
            }
        } catch (IOException e) {
            // The error response goes out anyway, and Jetty closes the connection if the body stays unread.
            log.debug("Cannot read the rest of the body of {} {}: {}", request.getMethod(), Request.getPathInContext(request),
                    e.toString());
        }
    }

    private static byte[] readBody(Request request) {
        try (InputStream body = Content.Source.asInputStream(request)) {
            byte[] bytes = body.readNBytes(MAX_BODY_BYTES + 1);
            if (bytes.length > MAX_BODY_BYTES) {
                throw ApiException.payloadTooLarge(MAX_BODY_BYTES);
            }
            return bytes;
        } catch (IOException e) {
            throw ApiException.badRequest("cannot read the request body: " + e.getMessage());
        }
    }
}
