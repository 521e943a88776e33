package dev.backbone.ingest;

import dev.backbone.events.Json;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Writes the errors that Jetty raises before a request reaches {@link FrontDoorHandler} as the JSON body of every other
 * front-door error, {@code {"error", "message", "field", "accepted"}}, instead of Jetty's HTML page. These are request
 * lines or headers over {@code HttpConfiguration.requestHeaderSize} (414, 431), and paths that Jetty's default URI
 * compliance rejects with 400: encoded '/', '\' or '%', NUL, {@code %2e} segments, invalid UTF-8, and {@code ..}
 * segments that climb above the root. Thread-safe.
 */
final class JsonErrorHandler extends ErrorHandler {

    static final String PATH_ACCEPTED = "a path in percent-encoded UTF-8 without encoded '/', '\\' or '%', "
            + "without NUL or %2e segments, and without '..' segments above the root";

    private static final String REQUEST_ACCEPTED = "an HTTP/1.1 request line and headers as RFC 9112 defines them, with "
            + PATH_ACCEPTED;

    private final int maxHeaderBytes;

    /** @param maxHeaderBytes the connector's {@code requestHeaderSize}, named in the 414 and 431 messages */
    JsonErrorHandler(int maxHeaderBytes) {
        this.maxHeaderBytes = maxHeaderBytes;
    }

    /** Writes the body for every method: Jetty's default writes none for PUT and DELETE. */
    @Override
    public boolean errorPageForMethod(String method) {
        return true;
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) {
        var body = Json.mapper().createObjectNode();
        body.put("error", errorCode(code));
        String reason = reason(message, cause);
        body.put("message", describe(code, reason));
        switch (code) {
            case HttpStatus.REQUEST_HEADER_FIELDS_TOO_LARGE_431 -> {
                body.put("field", "headers");
                body.put("accepted", "request headers of at most " + maxHeaderBytes + " bytes in total");
            }
            case HttpStatus.URI_TOO_LONG_414 -> {
                body.put("field", "uri");
                body.put("accepted", "a request line of at most " + maxHeaderBytes + " bytes");
            }
            case HttpStatus.BAD_REQUEST_400 -> {
                if (isAboutUri(reason)) {
                    body.put("field", "uri");
                    body.put("accepted", PATH_ACCEPTED);
                } else {
                    body.put("field", "request");
                    body.put("accepted", REQUEST_ACCEPTED);
                }
            }
            default -> {
                // Other statuses, such as 505 for an unknown HTTP version, carry Jetty's message only.
            }
        }
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, ByteBuffer.wrap(body.toString().getBytes(StandardCharsets.UTF_8)), callback);
    }

    /** Returns the status reason in snake case, such as {@code request_header_fields_too_large}. */
    static String errorCode(int code) {
        String reason = HttpStatus.getMessage(code);
        return reason == null ? "error" : reason.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
    }

    /** Returns Jetty's reason, such as {@code Ambiguous URI path separator}, or null when it gave none. */
    private static String reason(String message, Throwable cause) {
        if (cause instanceof HttpException exception && exception.getReason() != null && !exception.getReason().isBlank()) {
            return exception.getReason();
        }
        return message == null || message.isBlank() ? null : message;
    }

    /**
     * Returns the message for the client. Jetty gives only the generic status text for some path errors (a {@code ..}
     * segment above the root, an encoded NUL) and for malformed request lines and headers, so a generic 400 says
     * what Jetty checks at that point.
     */
    private static String describe(int code, String reason) {
        String generic = HttpStatus.getMessage(code);
        if (reason == null || reason.equals(generic)) {
            return code == HttpStatus.BAD_REQUEST_400 ? "invalid request line, path or headers (" + generic + ")" : generic;
        }
        return reason;
    }

    /** Returns whether Jetty's reason names a check of the request path, such as {@code Suspicious Path Character}. */
    private static boolean isAboutUri(String reason) {
        String text = String.valueOf(reason).toLowerCase(Locale.ROOT);
        return text.contains("uri") || text.contains("path") || text.contains("utf-8");
    }
}
