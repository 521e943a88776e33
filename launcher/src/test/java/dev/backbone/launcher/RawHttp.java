package dev.backbone.launcher;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal HTTP/1.1 client over a plain socket, for requests that {@code java.net.http} refuses to send: raw bytes
 * outside ASCII in the request line or a header, huge headers, unencoded path segments. Each request opens one
 * connection with {@code Connection: close} and reads the response until the server closes it, for at most
 * {@link #READ_TIMEOUT_MS} per read. Only for servers on 127.0.0.1 that the test started itself.
 */
final class RawHttp {

    static final int READ_TIMEOUT_MS = 30_000;
    private static final int MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

    /**
     * A parsed response.
     *
     * @param status  the status code, or -1 when the server closed the connection without a status line
     * @param headers header values by lower-case name; a repeated header keeps its last value
     * @param body    the body as UTF-8 text, chunked transfer coding removed
     */
    record Response(int status, Map<String, String> headers, String body) {

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private RawHttp() {
    }

    /** Sends {@code head} (request line and headers, without the blank line) and {@code body}, and reads the response. */
    static Response send(URI server, byte[] head, byte[] body) throws IOException {
        if (!"127.0.0.1".equals(server.getHost())) {
            throw new IllegalArgumentException("RawHttp only talks to 127.0.0.1, not " + server.getHost());
        }
        try (var socket = new Socket()) {
            socket.connect(new InetSocketAddress(server.getHost(), server.getPort()), 5_000);
            socket.setSoTimeout(READ_TIMEOUT_MS);
            IOException writeFailure = null;
            try {
                OutputStream out = socket.getOutputStream();
                out.write(head);
                out.write("\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                if (body != null) {
                    out.write(body);
                }
                out.flush();
            } catch (IOException e) {
                // A server that rejects a large head or body responds and closes before it has read all of it. The rest
                // of the write then fails with "Broken pipe" or a reset, while the response waits to be read.
                writeFailure = e;
            }
            return parse(readAll(socket.getInputStream(), writeFailure));
        }
    }

    /**
     * Builds a request head from ISO-8859-1 text, so that each {@code char} up to U+00FF becomes one byte: a test writes
     * an invalid UTF-8 sequence such as {@code "\u00C3("} as the two bytes C3 28.
     */
    static byte[] head(String method, String target, Map<String, String> headers) {
        var text = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1");
        headers.forEach((name, value) -> text.append("\r\n").append(name).append(": ").append(value));
        if (!headers.containsKey("Connection")) {
            text.append("\r\nConnection: close");
        }
        return text.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] readAll(InputStream in, IOException writeFailure) throws IOException {
        var bytes = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int read; (read = in.read(buffer)) >= 0; ) {
                bytes.write(buffer, 0, read);
                if (bytes.size() > MAX_RESPONSE_BYTES) {
                    break;
                }
            }
        } catch (SocketTimeoutException e) {
            // The server kept the connection open after its response; what arrived is the response.
        } catch (IOException e) {
            // A server that rejects a request may reset the connection after writing its response.
            if (bytes.size() == 0) {
                if (writeFailure != null) {
                    writeFailure.addSuppressed(e);
                    throw writeFailure;
                }
                throw e;
            }
        }
        if (bytes.size() == 0 && writeFailure != null) {
            throw writeFailure;
        }
        return bytes.toByteArray();
    }

    private static Response parse(byte[] raw) {
        String text = new String(raw, StandardCharsets.ISO_8859_1);
        int headEnd = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/1.") || headEnd < 0) {
            return new Response(-1, Map.of(), text);
        }
        String[] lines = text.substring(0, headEnd).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ", 3)[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        byte[] body = java.util.Arrays.copyOfRange(raw, headEnd + 4, raw.length);
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            body = unchunk(body);
        }
        return new Response(status, headers, new String(body, StandardCharsets.UTF_8));
    }

    private static byte[] unchunk(byte[] chunked) {
        var out = new ByteArrayOutputStream();
        int position = 0;
        while (position < chunked.length) {
            int lineEnd = indexOfCrLf(chunked, position);
            if (lineEnd < 0) {
                break;
            }
            String sizeText = new String(chunked, position, lineEnd - position, StandardCharsets.ISO_8859_1).split(";")[0].trim();
            int size = Integer.parseInt(sizeText, 16);
            if (size == 0) {
                break;
            }
            int start = lineEnd + 2;
            out.write(chunked, start, Math.min(size, chunked.length - start));
            position = start + size + 2;
        }
        return out.toByteArray();
    }

    private static int indexOfCrLf(byte[] bytes, int from) {
        for (int i = from; i + 1 < bytes.length; i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
