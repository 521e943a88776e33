package dev.backbone.cdn;

import java.net.ConnectException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.CompletableResponseListener;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches from the origin with Jetty's HTTP client: no redirects followed, no content decoding (the edge stores and
 * forwards bodies as the origin encoded them), no User-Agent of its own, and the Host header the caller chooses.
 * Bodies are buffered up to {@link EdgeConfig#maxObjectBytes()}. Thread-safe.
 */
final class OriginClient implements AutoCloseable {

    /** A complete origin response without hop-by-hop headers. */
    record OriginResponse(int status, List<Header> headers, byte[] body) {
    }

    /** Thrown when no usable response arrived. */
    static final class OriginException extends Exception {

        private static final long serialVersionUID = 1L;

        /** The cause of a failed fetch, a bounded metric tag. */
        enum Kind {
            TIMEOUT, UNREACHABLE, TOO_LARGE, FAILED
        }

        private final Kind kind;

        OriginException(Kind kind, String message, Throwable cause) {
            super(message, cause);
            this.kind = kind;
        }

        Kind kind() {
            return kind;
        }
    }

    private static final Logger log = LoggerFactory.getLogger(OriginClient.class);

    private final EdgeConfig config;
    private final HttpClient client = new HttpClient();
    private final String baseUri;

    OriginClient(EdgeConfig config) {
        this.config = config;
        URI origin = config.originUrl();
        String path = origin.getRawPath().endsWith("/") ? origin.getRawPath().substring(0, origin.getRawPath().length() - 1)
                : origin.getRawPath();
        this.baseUri = origin.getScheme() + "://" + origin.getHost() + (origin.getPort() < 0 ? "" : ":" + origin.getPort()) + path;
        var threads = new QueuedThreadPool(64, 4);
        threads.setName("edge-origin-" + config.region());
        client.setExecutor(threads);
        client.setFollowRedirects(false);
        client.setUserAgentField(null);
        client.getContentDecoderFactories().clear();
        client.setConnectTimeout(Math.min(config.originTimeoutMs(), 5_000));
        client.setIdleTimeout(30_000);
        client.setMaxConnectionsPerDestination(256);
        if (config.originTrustStore() != null) {
            var tls = new SslContextFactory.Client();
            tls.setTrustStore(config.originTrustStore().load());
            // Jetty's default already; set here so that the origin's host name is verified against its certificate.
            tls.setEndpointIdentificationAlgorithm("HTTPS");
            client.setSslContextFactory(tls);
        }
        try {
            client.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the origin HTTP client: " + e.getMessage(), e);
        }
    }

    /**
     * Sends one request and waits for the whole response.
     *
     * @param rawPathAndQuery the path and query as sent on the wire, starting with {@code /}
     * @param host            the Host header to send
     * @param headers         the end-to-end headers to send; hop-by-hop headers are dropped here
     * @param body            the request body, or null for none
     * @throws OriginException when the origin cannot be reached, times out, or sends a body beyond the limit
     */
    OriginResponse fetch(String method, String rawPathAndQuery, String host, List<Header> headers, byte[] body)
            throws OriginException, InterruptedException {
        Request request = client.newRequest(baseUri + rawPathAndQuery)
                .method(method)
                .timeout(config.originTimeoutMs(), TimeUnit.MILLISECONDS)
                .headers(fields -> {
                    for (Header header : headers) {
                        if (!EdgeHeaders.isHopByHop(header.name())) {
                            fields.add(header.name(), header.value());
                        }
                    }
                    fields.put(HttpHeader.HOST, host);
                });
        if (body != null && body.length > 0) {
            request.body(new BytesRequestContent(body));
        }
        try {
            ContentResponse response = new CompletableResponseListener(request, config.maxObjectBytes()).send()
                    .get(config.originTimeoutMs() + 1_000, TimeUnit.MILLISECONDS);
            List<Header> responseHeaders = new ArrayList<>();
            for (HttpField field : response.getHeaders()) {
                if (!EdgeHeaders.isHopByHop(field.getName())) {
                    responseHeaders.add(new Header(field.getName(), field.getValue()));
                }
            }
            return new OriginResponse(response.getStatus(), responseHeaders, response.getContent());
        } catch (TimeoutException e) {
            request.abort(e);
            throw timeout(e);
        } catch (ExecutionException e) {
            throw classify(e.getCause());
        }
    }

    private OriginException timeout(Throwable cause) {
        return new OriginException(OriginException.Kind.TIMEOUT, "origin timed out after origin.timeout.ms="
                + config.originTimeoutMs(), cause);
    }

    private OriginException classify(Throwable cause) {
        if (cause instanceof TimeoutException) {
            return timeout(cause);
        }
        if (cause instanceof ConnectException || cause instanceof java.nio.channels.UnresolvedAddressException
                || cause instanceof java.net.UnknownHostException) {
            return new OriginException(OriginException.Kind.UNREACHABLE, "origin " + baseUri + " is unreachable: " + cause, cause);
        }
        if (cause instanceof IllegalArgumentException && String.valueOf(cause.getMessage()).contains("capacity")) {
            return new OriginException(OriginException.Kind.TOO_LARGE, "origin response body exceeds cache.max.object.bytes="
                    + config.maxObjectBytes(), cause);
        }
        return new OriginException(OriginException.Kind.FAILED, "origin fetch failed: " + cause, cause);
    }

    @Override
    public void close() {
        try {
            client.stop();
        } catch (Exception e) {
            log.warn("Origin HTTP client of edge {} did not stop cleanly: {}", config.region(), e.toString());
        }
    }
}
