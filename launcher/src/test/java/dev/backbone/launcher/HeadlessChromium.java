package dev.backbone.launcher;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.backbone.events.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Headless Chromium showing one page, driven over the Chrome DevTools Protocol on 127.0.0.1: evaluate JavaScript in
 * the page and capture screenshots while the page keeps running in real time. {@link #close()} stops the browser and
 * deletes its profile directory.
 */
final class HeadlessChromium implements AutoCloseable {

    static final Path EXECUTABLE = Path.of("/usr/bin/chromium");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final Path userDataDir;
    private final WebSocket socket;
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger();

    private HeadlessChromium(Process process, Path userDataDir, WebSocket socket) {
        this.process = process;
        this.userDataDir = userDataDir;
        this.socket = socket;
    }

    /**
     * Starts Chromium on {@code page} with a new profile and connects to the page's DevTools endpoint.
     *
     * @param log file that receives Chromium's output
     */
    static HeadlessChromium open(URI page, int width, int height, Path log) throws Exception {
        Path userDataDir = Files.createTempDirectory("backbone-chromium-");
        List<String> command = List.of(EXECUTABLE.toString(),
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=" + width + "," + height,
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                "--user-data-dir=" + userDataDir, page.toString());
        Files.createDirectories(log.getParent());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            int port = awaitDevToolsPort(process, userDataDir, log);
            var listener = new Listener();
            WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(pageSocket(port, page), listener).get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            var chromium = new HeadlessChromium(process, userDataDir, socket);
            listener.owner = chromium;
            chromium.send("Emulation.setDeviceMetricsOverride",
                    Map.of("width", width, "height", height, "deviceScaleFactor", 1, "mobile", false));
            return chromium;
        } catch (Exception | AssertionError e) {
            process.destroyForcibly();
            deleteRecursively(userDataDir);
            throw e;
        }
    }

    /** Waits until Chromium writes the port of its DevTools server into the profile directory. */
    private static int awaitDevToolsPort(Process process, Path userDataDir, Path log) throws IOException {
        Path portFile = userDataDir.resolve("DevToolsActivePort");
        await("Chromium writes " + portFile + " (its output is in " + log + ")").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> !process.isAlive() || (Files.exists(portFile) && Files.readAllLines(portFile).size() >= 2));
        if (!process.isAlive()) {
            throw new IllegalStateException("Chromium exited with " + process.exitValue() + "; its output is in " + log);
        }
        return Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
    }

    /** Returns the DevTools WebSocket URI of the tab that shows {@code page}. */
    private static URI pageSocket(int port, URI page) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest list = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                .timeout(COMMAND_TIMEOUT).GET().build();
        var socketUri = new String[1];
        await("a DevTools target for " + page).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            for (JsonNode target : Json.mapper().readTree(http.send(list, HttpResponse.BodyHandlers.ofString()).body())) {
                if ("page".equals(target.path("type").asText()) && target.path("url").asText().startsWith(page.toString())) {
                    socketUri[0] = target.path("webSocketDebuggerUrl").asText();
                    return true;
                }
            }
            return false;
        });
        return URI.create(socketUri[0]);
    }

    /** Evaluates a JavaScript expression in the page and returns its value as JSON. */
    JsonNode evaluate(String expression) throws Exception {
        JsonNode result = send("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true));
        if (result.has("exceptionDetails")) {
            throw new IllegalStateException("JavaScript failed: " + result.get("exceptionDetails"));
        }
        return result.path("result").path("value");
    }

    /** Writes a PNG screenshot of the viewport to {@code file}. */
    void screenshot(Path file) throws Exception {
        JsonNode result = send("Page.captureScreenshot", Map.of("format", "png"));
        Files.createDirectories(file.getParent());
        Files.write(file, Base64.getDecoder().decode(result.path("data").asText()));
    }

    private JsonNode send(String method, Map<String, Object> params) throws Exception {
        int id = nextId.incrementAndGet();
        ObjectNode message = Json.mapper().createObjectNode();
        message.put("id", id);
        message.put("method", method);
        message.set("params", Json.mapper().valueToTree(params));
        var reply = new CompletableFuture<JsonNode>();
        pending.put(id, reply);
        socket.sendText(Json.mapper().writeValueAsString(message), true).get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        JsonNode answer = reply.get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (answer.has("error")) {
            throw new IllegalStateException(method + " failed: " + answer.get("error"));
        }
        return answer.path("result");
    }

    @Override
    public void close() throws Exception {
        try {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // The browser is stopped below either way.
        }
        // Chromium's helper processes (zygote, renderer, GPU) write to the profile until they exit, so stop them too.
        List<ProcessHandle> helpers = process.descendants().toList();
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        for (ProcessHandle helper : helpers) {
            helper.destroy();
            try {
                helper.onExit().get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                helper.destroyForcibly();
            }
        }
        try {
            deleteRecursively(userDataDir);
        } catch (IOException e) {
            // A leftover temporary profile is not a test failure, so only print where it is.
            System.err.println("Cannot delete the Chromium profile " + userDataDir + ": " + e);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(paths.sorted(Comparator.reverseOrder()).toList());
            for (Path path : all) {
                Files.deleteIfExists(path);
            }
        }
    }

    /** Collects the text frames of each DevTools message and completes the pending command with the same id. */
    private static final class Listener implements WebSocket.Listener {
        private final StringBuilder frames = new StringBuilder();
        private volatile HeadlessChromium owner;

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            frames.append(data);
            if (last) {
                String text = frames.toString();
                frames.setLength(0);
                complete(text);
            }
            webSocket.request(1);
            return null;
        }

        private void complete(String text) {
            try {
                JsonNode message = Json.mapper().readTree(text);
                if (message.has("id") && owner != null) {
                    CompletableFuture<JsonNode> reply = owner.pending.remove(message.get("id").asInt());
                    if (reply != null) {
                        reply.complete(message);
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("unreadable DevTools message: " + e.getMessage(), e);
            }
        }
    }
}
