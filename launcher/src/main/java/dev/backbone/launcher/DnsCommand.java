package dev.backbone.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code backbone dns}: puts, lists and deletes DNS records and shows how a name resolves for a client, through the
 * REST API of routing-streams. Each subcommand exits with 0 when the API responds with 2xx, and with 1 when it responds
 * with another status or cannot be reached, after printing the API's error message. An invalid command line exits
 * with picocli's usage error code, 2.
 */
@Command(name = "dns", mixinStandardHelpOptions = true,
        description = "Manages DNS records and shows resolutions through the routing REST API.",
        subcommands = {DnsCommand.Put.class, DnsCommand.ListRecords.class, DnsCommand.Delete.class,
                DnsCommand.Resolve.class})
final class DnsCommand implements Runnable {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing subcommand; try 'backbone dns list' or 'backbone dns put --help'");
    }

    /** Options every subcommand shares. */
    static final class ApiOptions {

        @Option(names = "--api", defaultValue = "http://127.0.0.1:8081/", paramLabel = "URL",
                description = "Base URL of the routing REST API (default: ${DEFAULT-VALUE}).")
        URI api;

        @Option(names = "--token", defaultValue = "${env:BACKBONE_ADMIN_TOKEN}", paramLabel = "TOKEN",
                description = "Admin bearer token, needed by put and delete (default: the environment variable "
                        + "BACKBONE_ADMIN_TOKEN).")
        String token;
    }

    /** A subcommand that sends one request to the API and prints the response. */
    abstract static class ApiCommand implements Callable<Integer> {

        private static final Duration TIMEOUT = Duration.ofSeconds(30);

        @Mixin
        ApiOptions options;

        @Spec
        CommandLine.Model.CommandSpec spec;

        /** A response of the API: its status and JSON body (null when the body is not JSON). */
        record ApiResponse(int status, JsonNode json, String body) {

            boolean ok() {
                return status >= 200 && status < 300;
            }
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        /**
         * Sends a request to {@code path} (relative to {@code --api}) and returns the answer, or null after printing
         * why the API cannot be reached.
         */
        ApiResponse send(String method, String path, String jsonBody, boolean admin) {
            String base = options.api.toString().endsWith("/") ? options.api.toString() : options.api + "/";
            URI uri = URI.create(base).resolve(path);
            var request = HttpRequest.newBuilder(uri).timeout(TIMEOUT).header("Accept", "application/json");
            if (admin && options.token != null && !options.token.isBlank()) {
                request.header("Authorization", "Bearer " + options.token);
            }
            if (jsonBody != null) {
                request.header("Content-Type", "application/json");
                request.method(method, HttpRequest.BodyPublishers.ofString(jsonBody, StandardCharsets.UTF_8));
            } else {
                request.method(method, HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<String> response;
            try {
                HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            } catch (IOException e) {
                spec.commandLine().getErr().println("cannot reach the routing API at " + uri + ": " + e
                        + "; is 'backbone serve' running, and is --api right?");
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                spec.commandLine().getErr().println("interrupted while waiting for " + uri);
                return null;
            }
            JsonNode json;
            try {
                json = Json.mapper().readTree(response.body());
            } catch (IOException e) {
                json = null;
            }
            return new ApiResponse(response.statusCode(), json, response.body());
        }

        /** Prints the API's error message and returns exit code 1. */
        int fail(ApiResponse answer, boolean admin) {
            PrintWriter err = spec.commandLine().getErr();
            String message = answer.json() != null && answer.json().hasNonNull("message")
                    ? answer.json().get("message").asText() : answer.body();
            err.println("error: HTTP " + answer.status() + ": " + message);
            if (admin && answer.status() == 401 && (options.token == null || options.token.isBlank())) {
                err.println("hint: pass --token or set BACKBONE_ADMIN_TOKEN to the admin.token of routing-streams");
            }
            err.flush();
            return 1;
        }

        /** Sends a request and prints the response with {@link #print(JsonNode)} when it succeeds. */
        Integer exchange(String method, String path, String jsonBody, boolean admin) {
            ApiResponse answer = send(method, path, jsonBody, admin);
            if (answer == null) {
                return 1;
            }
            if (!answer.ok()) {
                return fail(answer, admin);
            }
            print(answer.json());
            out().flush();
            return 0;
        }

        abstract void print(JsonNode json);

        static String encodeQuery(String value) {
            return URLEncoder.encode(value, StandardCharsets.UTF_8);
        }

        static String encodePathSegment(String value) {
            return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
        }
    }

    /** Prints records as a table with one row per record. */
    static void printRecords(PrintWriter out, List<JsonNode> records) {
        var rows = new ArrayList<String[]>();
        rows.add(new String[] {"SCOPE", "NAME", "TYPE", "TTL", "VERSION", "DATA"});
        for (JsonNode record : records) {
            String data = record.path("type").asText().equals("CNAME") ? "-> " + record.path("target").asText()
                    : joined(record.path("addresses"));
            rows.add(new String[] {record.path("scope").asText(), record.path("name").asText(),
                    record.path("type").asText(), record.path("ttlSeconds").asText(), record.path("version").asText(),
                    data});
        }
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

    static String joined(JsonNode array) {
        var items = new ArrayList<String>();
        array.forEach(item -> items.add(item.asText()));
        return String.join(", ", items);
    }

    @Command(name = "put", mixinStandardHelpOptions = true,
            description = "Adds or replaces a DNS record: an address record (--address) or an alias (--alias).")
    static final class Put extends ApiCommand {

        @Parameters(index = "0", paramLabel = "NAME", description = "Host name, such as shop.example.com.")
        String name;

        @Option(names = "--scope", required = true, paramLabel = "SCOPE",
                description = "Where the record applies: global, country:XX or region:NAME.")
        String scope;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Data data;

        @Option(names = "--ttl", required = true, paramLabel = "SECONDS",
                description = "How long clients cache the answer, in seconds; 0 means not at all.")
        long ttlSeconds;

        /** The record data: addresses or an alias target, exactly one of them. */
        static final class Data {

            @Option(names = "--address", required = true, arity = "1..*", split = ",", paramLabel = "ADDRESS",
                    description = "Load-balancer addresses of an A record, separated by spaces or commas.")
            List<String> addresses;

            @Option(names = "--alias", required = true, paramLabel = "TARGET",
                    description = "Target name of a CNAME record.")
            String alias;
        }

        @Override
        public Integer call() {
            ObjectNode body = Json.mapper().createObjectNode();
            body.put("name", name);
            body.put("scope", scope);
            if (data.alias != null) {
                body.put("type", "CNAME");
                body.put("target", data.alias);
            } else {
                body.put("type", "A");
                var addresses = body.putArray("addresses");
                data.addresses.forEach(addresses::add);
            }
            body.put("ttlSeconds", ttlSeconds);
            return exchange("PUT", "api/dns/records", body.toString(), true);
        }

        @Override
        void print(JsonNode record) {
            printRecords(out(), List.of(record));
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists DNS records by name prefix.")
    static final class ListRecords extends ApiCommand {

        @Option(names = "--prefix", defaultValue = "", paramLabel = "PREFIX",
                description = "Only names starting with this, in lower case and punycode (default: all names).")
        String prefix;

        @Override
        public Integer call() {
            return exchange("GET", "api/dns/records?prefix=" + encodeQuery(prefix), null, false);
        }

        @Override
        void print(JsonNode answer) {
            var records = new ArrayList<JsonNode>();
            answer.path("records").forEach(records::add);
            if (records.isEmpty()) {
                out().println("No DNS records" + (prefix.isEmpty() ? "" : " whose name starts with '" + prefix + "'"));
                return;
            }
            printRecords(out(), records);
            if (answer.path("truncated").asBoolean()) {
                out().println("(only the first " + records.size() + " records; narrow --prefix to see others)");
            }
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Deletes a DNS record.")
    static final class Delete extends ApiCommand {

        @Parameters(index = "0", paramLabel = "NAME", description = "Host name of the record.")
        String name;

        @Option(names = "--scope", required = true, paramLabel = "SCOPE",
                description = "Scope of the record: global, country:XX or region:NAME.")
        String scope;

        @Override
        public Integer call() {
            return exchange("DELETE", "api/dns/records/" + encodePathSegment(scope) + "/" + encodePathSegment(name),
                    null, true);
        }

        @Override
        void print(JsonNode answer) {
            JsonNode deleted = answer.path("deleted");
            out().println("Deleted " + deleted.path("scope").asText() + "/" + deleted.path("name").asText()
                    + " (was version " + deleted.path("version").asText() + ")");
        }
    }

    @Command(name = "resolve", mixinStandardHelpOptions = true,
            description = "Shows how a name resolves for a client: its DNS cache entry and the level that answers.")
    static final class Resolve extends ApiCommand {

        @Parameters(index = "0", paramLabel = "NAME", description = "Host name to resolve.")
        String name;

        @Option(names = "--client", required = true, paramLabel = "ID", description = "Client id (X-Client-Id).")
        String client;

        @Option(names = "--region", required = true, paramLabel = "REGION", description = "Client region, such as eu-west.")
        String region;

        @Option(names = "--country", defaultValue = "", paramLabel = "CODE",
                description = "Client country code, such as DE (default: none).")
        String country;

        @Override
        public Integer call() {
            return exchange("GET", "api/dns/resolve?name=" + encodeQuery(name) + "&client=" + encodeQuery(client)
                    + "&region=" + encodeQuery(region) + "&country=" + encodeQuery(country), null, false);
        }

        @Override
        void print(JsonNode answer) {
            PrintWriter out = out();
            out.println("name         " + answer.path("name").asText());
            out.println("client       " + answer.path("client").asText() + " (region '" + answer.path("region").asText()
                    + "', country '" + answer.path("country").asText() + "')");
            out.println("resolved by  " + answer.path("resolvedBy").asText());
            out.println("cache        " + cacheLine(answer.path("cache")));
            out.println("resolution   " + resolutionLine(answer.path("resolution")));
            String forwardedBy = answer.path("forwardedBy").asText("");
            out.println("answered by  " + answer.path("answeredBy").asText()
                    + (forwardedBy.isEmpty() ? "" : " (forwarded by " + forwardedBy + ")"));
        }

        private static String cacheLine(JsonNode cache) {
            if (!cache.path("present").asBoolean()) {
                return "no entry";
            }
            String state = cache.path("fresh").asBoolean()
                    ? String.format("fresh for %.1f s", cache.path("expiresInMs").asLong() / 1000.0) : "expired";
            String content = cache.path("unknownHost").asBoolean() ? "unknown host (NXDOMAIN)"
                    : cache.path("level").asText() + ": " + joined(cache.path("addresses"));
            return state + ", " + content;
        }

        private static String resolutionLine(JsonNode resolution) {
            String result = resolution.path("result").asText();
            return switch (result) {
                case "nxdomain" -> "unknown host: no record for " + resolution.path("missingName").asText();
                case "error" -> "error " + resolution.path("reason").asText() + ": " + resolution.path("message").asText();
                default -> result + ": " + joined(resolution.path("addresses")) + " (record "
                        + resolution.path("record").path("key").asText() + " version "
                        + resolution.path("record").path("version").asText() + ", TTL "
                        + resolution.path("ttlMs").asLong() / 1000 + " s" + aliasChain(resolution.path("chain")) + ")";
            };
        }

        private static String aliasChain(JsonNode chain) {
            if (chain.size() < 2) {
                return "";
            }
            var names = new ArrayList<String>();
            chain.forEach(name -> names.add(name.asText()));
            return ", via " + String.join(" -> ", names);
        }
    }
}
