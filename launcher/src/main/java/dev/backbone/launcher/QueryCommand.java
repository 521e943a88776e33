package dev.backbone.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code backbone query}: the read-only queries of the routing REST API, printed as tables. Any routing instance
 * serves every query: it forwards keyed queries to the instance that owns the key, and queries every instance for
 * the load counts and traces. Each subcommand exits with 0 when the API responds with 2xx, and with 1 when it responds
 * with another status or cannot be reached, after printing the API's error message. An invalid command line exits
 * with picocli's usage error code, 2.
 */
@Command(name = "query", mixinStandardHelpOptions = true,
        description = "Queries DNS resolutions, pools, routes, loads and routing traces through the routing REST API.",
        subcommands = {DnsCommand.Resolve.class, QueryCommand.Pool.class, QueryCommand.Route.class,
                QueryCommand.Load.class, QueryCommand.Trace.class})
final class QueryCommand implements Runnable {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing subcommand; try 'backbone query pool shop' or 'backbone query --help'");
    }

    /** A subcommand that sends one GET request to the API and prints the JSON response as tables. */
    abstract static class QueryApiCommand implements Callable<Integer> {

        private static final Duration TIMEOUT = Duration.ofSeconds(30);

        @Option(names = "--api", defaultValue = "http://127.0.0.1:8081/", paramLabel = "URL",
                description = "Base URL of the routing REST API (default: ${DEFAULT-VALUE}).")
        URI api;

        @Spec
        CommandLine.Model.CommandSpec spec;

        /** Returns the path and query to send, relative to {@code --api}. */
        abstract String path();

        abstract void print(JsonNode answer, PrintWriter out);

        @Override
        public Integer call() {
            String base = api.toString().endsWith("/") ? api.toString() : api + "/";
            URI uri = URI.create(base).resolve(path());
            var request = HttpRequest.newBuilder(uri).timeout(TIMEOUT).header("Accept", "application/json").GET().build();
            PrintWriter err = spec.commandLine().getErr();

            HttpResponse<String> response;
            try {
                HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
                response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            } catch (IOException e) {
                err.println("cannot reach the routing API at " + uri + ": " + e
                        + "; is 'backbone serve' running, and is --api right?");
                err.flush();
                return 1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                err.println("interrupted while waiting for " + uri);
                err.flush();
                return 1;
            }

            JsonNode json;
            try {
                json = Json.mapper().readTree(response.body());
            } catch (IOException e) {
                json = null;
            }
            if (response.statusCode() < 200 || response.statusCode() >= 300 || json == null) {
                String message = json != null && json.hasNonNull("message") ? json.get("message").asText() : response.body();
                err.println("error: HTTP " + response.statusCode() + ": " + message);
                response.headers().firstValue("Retry-After").ifPresent(seconds ->
                        err.println("hint: partitions are moving between routing instances; retry in " + seconds + " s"));
                err.flush();
                return 1;
            }

            PrintWriter out = spec.commandLine().getOut();
            print(json, out);
            String forwardedBy = json.path("forwardedBy").asText("");
            out.println("answered by " + json.path("answeredBy").asText()
                    + (forwardedBy.isEmpty() ? "" : " (forwarded by " + forwardedBy + ")"));
            out.flush();
            return 0;
        }

        static String encode(String value) {
            return URLEncoder.encode(value, StandardCharsets.UTF_8);
        }
    }

    /** Prints rows as columns padded to the widest cell; the first row is the header. */
    static void printTable(PrintWriter out, List<String[]> rows) {
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            var line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format("%-" + widths[i] + "s  ", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    /** Prints the named fields of an object as a two-column table, with "-" for a null or missing field. */
    static void printFields(PrintWriter out, JsonNode object, String... fields) {
        var rows = new ArrayList<String[]>();
        rows.add(new String[] {"FIELD", "VALUE"});
        for (String field : fields) {
            rows.add(new String[] {field, text(object.path(field))});
        }
        printTable(out, rows);
    }

    /** Returns a JSON value as table text: arrays joined by commas, "-" for null or missing. */
    static String text(JsonNode value) {
        if (value.isMissingNode() || value.isNull()) {
            return "-";
        }
        if (value.isArray()) {
            var items = new ArrayList<String>();
            value.forEach(item -> items.add(item.asText()));
            return items.isEmpty() ? "-" : String.join(", ", items);
        }
        return value.asText();
    }

    @Command(name = "pool", mixinStandardHelpOptions = true,
            description = "Lists the members of a pool with their state and last heartbeat.")
    static final class Pool extends QueryApiCommand {

        @Parameters(index = "0", paramLabel = "POOL", description = "Pool name, such as shop.")
        String pool;

        @Override
        String path() {
            return "api/lb/pools/" + encode(pool).replace("+", "%20");
        }

        @Override
        void print(JsonNode answer, PrintWriter out) {
            var rows = new ArrayList<String[]>();
            rows.add(new String[] {"SERVER", "KIND", "STATE", "ANNOUNCED", "WEIGHT", "PARTITIONS", "HEARTBEAT AGE MS"});
            for (JsonNode member : answer.path("members")) {
                rows.add(new String[] {text(member.path("serverId")), text(member.path("kind")),
                        text(member.path("state")), text(member.path("announced")), text(member.path("weight")),
                        text(member.path("partitions")), text(member.path("lastReceivedAgeMs"))});
            }
            printTable(out, rows);
            out.println(answer.path("upAppServers").asInt() + " app servers UP");
        }
    }

    @Command(name = "route", mixinStandardHelpOptions = true,
            description = "Shows the app server a routing key maps to now, and its preference order.")
    static final class Route extends QueryApiCommand {

        @Option(names = "--pool", required = true, paramLabel = "POOL", description = "Pool name, such as shop.")
        String pool;

        @Option(names = "--key", required = true, paramLabel = "KEY",
                description = "Routing key: a client id, a path or a header value, as the pool's hash key says.")
        String key;

        @Override
        String path() {
            return "api/lb/route?pool=" + encode(pool) + "&key=" + encode(key);
        }

        @Override
        void print(JsonNode answer, PrintWriter out) {
            printFields(out, answer, "pool", "key", "serverId", "firstChoice", "spilled", "preference", "slot",
                    "boundedLoadFactor");
        }
    }

    @Command(name = "load", mixinStandardHelpOptions = true,
            description = "Shows the requests routed to each app server of a pool over the last 1 and 5 minutes, "
                    + "summed over all routing instances.")
    static final class Load extends QueryApiCommand {

        @Option(names = "--pool", required = true, paramLabel = "POOL", description = "Pool name, such as shop.")
        String pool;

        @Override
        String path() {
            return "api/lb/load?pool=" + encode(pool);
        }

        @Override
        void print(JsonNode answer, PrintWriter out) {
            var servers = new ArrayList<String[]>();
            servers.add(new String[] {"SERVER", "STATE", "LAST MINUTE", "LAST 5 MINUTES"});
            for (JsonNode server : answer.path("servers")) {
                servers.add(new String[] {text(server.path("serverId")), text(server.path("state")),
                        text(server.path("lastMinute")), text(server.path("lastFiveMinutes"))});
            }
            servers.add(new String[] {"total", "", text(answer.path("totalLastMinute")),
                    text(answer.path("totalLastFiveMinutes"))});
            printTable(out, servers);
            out.println();
            var instances = new ArrayList<String[]>();
            instances.add(new String[] {"ROUTING INSTANCE", "LAST MINUTE", "LAST 5 MINUTES"});
            for (JsonNode instance : answer.path("instances")) {
                instances.add(new String[] {text(instance.path("instance")), text(instance.path("totalLastMinute")),
                        text(instance.path("totalLastFiveMinutes"))});
            }
            printTable(out, instances);
        }
    }

    @Command(name = "trace", mixinStandardHelpOptions = true,
            description = "Shows how a request was routed or why it was rejected, by request id.")
    static final class Trace extends QueryApiCommand {

        @Parameters(index = "0", paramLabel = "REQUEST_ID", description = "Request id, as X-Request-Id returns it.")
        String requestId;

        @Override
        String path() {
            return "api/traces/" + encode(requestId).replace("+", "%20");
        }

        @Override
        void print(JsonNode answer, PrintWriter out) {
            printFields(out, answer.path("trace"), "requestId", "clientId", "host", "outcome", "status", "error",
                    "resolvedBy", "dnsCacheHit", "skippedAddresses", "loadBalancer", "pool", "serverId", "spilled",
                    "routedAtMs");
        }
    }
}
