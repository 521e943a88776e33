package dev.backbone.cdn;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
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
 * The Jetty handler of an edge: {@code GET /metrics} and {@code /admin/*} are served by the edge itself, so those
 * paths never reach the origin; every other request goes through the {@link CachingProxy}. Blocking: a request holds
 * its Jetty thread while it waits for the origin.
 */
final class EdgeHandler extends Handler.Abstract {

    private static final Logger log = LoggerFactory.getLogger(EdgeHandler.class);
    static final String METRICS_PATH = "/metrics";

    private final CachingProxy proxy;
    private final AdminEndpoint admin;
    private final MeterRegistry registry;
    private final int maxRequestBodyBytes;

    EdgeHandler(CachingProxy proxy, AdminEndpoint admin, MeterRegistry registry, int maxRequestBodyBytes) {
        this.proxy = proxy;
        this.admin = admin;
        this.registry = registry;
        this.maxRequestBodyBytes = maxRequestBodyBytes;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String path = request.getHttpURI().getPath();
        String method = request.getMethod();
        EdgeResponse answer;
        try {
            if (path.equals(METRICS_PATH)) {
                answer = metrics(method);
            } else if (path.startsWith("/admin/")) {
                byte[] body = readBody(request, AdminEndpoint.MAX_BODY_BYTES);
                answer = admin.handle(method, path, request.getHeaders().get(HttpHeader.AUTHORIZATION), body);
            } else {
                answer = proxy.handle(toEdgeRequest(request, path));
            }
        } catch (ExecutionException e) {
            // Jetty 12.1 fails the read with IllegalStateException("Max size (N) exceeded") when the body exceeds the
            // limit; earlier versions used IllegalArgumentException.
            answer = isBodyTooLarge(e.getCause())
                    ? ClientResponses.error(413, "request body is larger than the limit of the edge", CacheResult.PASS)
                    : ClientResponses.error(400, "cannot read the request body: " + e.getCause(), CacheResult.PASS);
            // The rest of the body stays unread, so Jetty closes the connection. With Connection: close the client opens
            // a new connection for its next request instead of getting no response on this one.
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer = ClientResponses.error(503, "the edge is stopping", CacheResult.PASS);
        } catch (RuntimeException e) {
            log.error("Request {} {} failed in the edge", method, path, e);
            answer = ClientResponses.error(500, "internal error in the edge", CacheResult.PASS);
        }
        write(answer, response, callback);
        return true;
    }

    private EdgeRequest toEdgeRequest(Request request, String path) throws ExecutionException, InterruptedException {
        List<Header> headers = new ArrayList<>();
        for (HttpField field : request.getHeaders()) {
            headers.add(new Header(field.getName(), field.getValue()));
        }
        String host = request.getHeaders().get(HttpHeader.HOST);
        if (host == null) {
            host = request.getHttpURI().getAuthority();
        }
        byte[] body = request.getMethod().equals("GET") || request.getMethod().equals("HEAD") ? new byte[0]
                : readBody(request, maxRequestBodyBytes);
        return new EdgeRequest(request.getMethod(), host == null ? "" : host, path, request.getHttpURI().getQuery(), headers, body);
    }

    private static boolean isBodyTooLarge(Throwable readFailure) {
        return readFailure instanceof IllegalArgumentException || readFailure instanceof IllegalStateException
                && String.valueOf(readFailure.getMessage()).startsWith("Max size");
    }

    private static byte[] readBody(Request request, int maxBytes) throws ExecutionException, InterruptedException {
        return Content.Source.asByteArrayAsync(request, maxBytes).get();
    }

    private EdgeResponse metrics(String method) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            return ClientResponses.error(405, method + " is not allowed on " + METRICS_PATH + "; use GET", CacheResult.PASS);
        }
        if (!(registry instanceof PrometheusMeterRegistry prometheus)) {
            return ClientResponses.error(404, "metrics are served only when the edge runs with a Prometheus registry", CacheResult.PASS);
        }
        return new EdgeResponse(200, List.of(new Header("Content-Type", "text/plain; version=0.0.4; charset=utf-8"),
                new Header("Cache-Control", "no-store")), prometheus.scrape().getBytes(StandardCharsets.UTF_8), CacheResult.PASS);
    }

    private static void write(EdgeResponse answer, Response response, Callback callback) {
        response.setStatus(answer.status());
        boolean contentLengthSet = false;
        for (Header header : answer.headers()) {
            if (header.name().equalsIgnoreCase("Content-Length")) {
                contentLengthSet = true;
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, header.value());
            } else {
                response.getHeaders().add(header.name(), header.value());
            }
        }
        boolean bodyless = answer.status() == 304 || answer.status() == 204 || answer.status() < 200;
        if (!contentLengthSet && !bodyless) {
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, answer.body().length);
        }
        response.write(true, ByteBuffer.wrap(answer.body()), callback);
    }
}
