package dev.backbone.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Finds free TCP ports on 127.0.0.1. */
public final class FreePorts {

    private FreePorts() {
    }

    /**
     * Returns a port that was free on 127.0.0.1 a moment ago. Another process may still take it before the caller
     * binds it; the embedded servers bind right after asking, which keeps that window small.
     */
    public static int next() {
        try (var socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
        }
    }
}
