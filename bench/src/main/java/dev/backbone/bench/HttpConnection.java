package dev.backbone.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.util.Locale;

/**
 * One keep-alive HTTP/1.1 connection of the benchmark's load generators: it writes prebuilt request bytes and reads
 * the response, one call at a time. It reads only bodies framed by Content-Length or chunked transfer coding.
 */
final class HttpConnection implements AutoCloseable {

    /** A response: its status, its body and whether the server closes the connection after it. */
    record Response(int status, byte[] body, boolean closed) {
    }

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    /**
     * Throws {@link IllegalArgumentException} unless {@code server} is plain HTTP on 127.0.0.1, naming {@code client}:
     * the benchmark's load generators send only to the local stack.
     */
    static void requireLoopback(URI server, String client) {
        if (!"127.0.0.1".equals(server.getHost()) || !"http".equals(server.getScheme())) {
            throw new IllegalArgumentException(client + " only talks to http://127.0.0.1, not " + server);
        }
    }

    /** Opens a connection to {@code server}; {@code timeoutMs} bounds the connect and every read. */
    HttpConnection(URI server, int timeoutMs) throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(server.getHost(), server.getPort()), timeoutMs);
        socket.setSoTimeout(timeoutMs);
        out = socket.getOutputStream();
        in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
    }

    /** Writes {@code request}, a whole HTTP/1.1 request with its body, and reads the response. */
    Response call(byte[] request) throws IOException {
        out.write(request);
        out.flush();
        String statusLine = readLine();
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP/1.x status line: '" + statusLine + "'");
        }
        int status = Integer.parseInt(parts[1]);

        long contentLength = -1;
        boolean chunked = false;
        boolean closed = false;
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                throw new IOException("invalid header line '" + line + "'");
            }
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> contentLength = Long.parseLong(value);
                case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                case "connection" -> closed = value.toLowerCase(Locale.ROOT).contains("close");
                default -> {
                    // Other headers do not change how the body is read.
                }
            }
        }

        byte[] body;
        if (chunked) {
            body = readChunked();
        } else if (contentLength >= 0) {
            body = readExactly((int) contentLength);
        } else {
            throw new IOException("response " + status + " has neither Content-Length nor chunked transfer coding");
        }
        return new Response(status, body, closed);
    }

    private byte[] readChunked() throws IOException {
        var body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = readLine();
            int size = Integer.parseInt(sizeLine.split(";", 2)[0].trim(), 16);
            if (size == 0) {
                // Trailer fields, if any, end with an empty line.
                while (!readLine().isEmpty()) {
                    continue;
                }
                return body.toByteArray();
            }
            body.writeBytes(readExactly(size));
            if (!readLine().isEmpty()) {
                throw new IOException("chunk of " + size + " bytes is not followed by CRLF");
            }
        }
    }

    private byte[] readExactly(int length) throws IOException {
        byte[] bytes = in.readNBytes(length);
        if (bytes.length < length) {
            throw new IOException("connection closed after " + bytes.length + " of " + length + " body bytes");
        }
        return bytes;
    }

    /** Reads a line up to CRLF, without it. */
    private String readLine() throws IOException {
        var line = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("connection closed in the middle of a response head");
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // Closing a socket this benchmark no longer needs; nothing to recover.
        }
    }
}
