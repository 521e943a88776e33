package dev.backbone.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import dev.backbone.events.Json;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses access-log lines into replayable entries: NCSA Common Log Format, NCSA Combined Log Format, and JSON lines.
 *
 * <p>JSON lines name their fields through a mapping whose defaults are {@code time} (ISO-8601 text or epoch
 * milliseconds, required), {@code client} (client address, required), {@code path} (path and query, required),
 * {@code method} (default GET), {@code host} (default: the replay's host) and {@code body} (optional).
 * Thread-safe.
 */
final class AccessLogParser {

    enum Format { auto, common, combined, json }

    /**
     * One request read from a log.
     *
     * @param lineNumber    1-based line number in the file
     * @param time          when the request was logged
     * @param secondsOnly   whether the time has only whole seconds (NCSA formats)
     * @param clientAddress the client address as logged
     * @param method        HTTP method
     * @param path          path and query
     * @param host          host, or null for the replay's default
     * @param body          body, or null
     */
    record Entry(long lineNumber, Instant time, boolean secondsOnly, String clientAddress, String method, String path, String host, String body) {
    }

    static final Map<String, String> DEFAULT_JSON_FIELDS = Map.of(
            "time", "time", "client", "client", "path", "path", "method", "method", "host", "host", "body", "body");

    /** Host, ident, user, [time], "request", status, bytes, then optionally "referer" "user agent". */
    private static final Pattern NCSA = Pattern.compile(
            "^(\\S+) \\S+ \\S+ \\[([^\\]]+)] \"([^\"]*)\" (\\d{3}|-) (\\d+|-)(?: \"([^\"]*)\" \"([^\"]*)\")?\\s*$");
    private static final Pattern REQUEST_LINE = Pattern.compile("^([A-Z]{3,10}) (/\\S*)(?: HTTP/\\d(?:\\.\\d)?)?$");
    private static final DateTimeFormatter NCSA_TIME = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH);

    private final Format format;
    private final Map<String, String> jsonFields;

    AccessLogParser(Format format, Map<String, String> jsonFieldOverrides) {
        this.format = format;
        var fields = new HashMap<>(DEFAULT_JSON_FIELDS);
        jsonFieldOverrides.forEach((key, name) -> {
            if (!DEFAULT_JSON_FIELDS.containsKey(key)) {
                throw new IllegalArgumentException("unknown JSON field key '" + key + "'; accepted: " + String.join(", ", DEFAULT_JSON_FIELDS.keySet()));
            }
            fields.put(key, name);
        });
        this.jsonFields = Map.copyOf(fields);
    }

    /**
     * Parses one line.
     *
     * @return the entry, or an empty optional for a blank line
     * @throws IllegalArgumentException saying what is wrong with the line
     */
    Optional<Entry> parse(long lineNumber, String line) {
        if (line.isBlank()) {
            return Optional.empty();
        }
        boolean looksJson = line.stripLeading().startsWith("{");
        return switch (format) {
            case json -> Optional.of(parseJson(lineNumber, line));
            case common, combined -> Optional.of(parseNcsa(lineNumber, line, format == Format.combined));
            case auto -> Optional.of(looksJson ? parseJson(lineNumber, line) : parseNcsa(lineNumber, line, false));
        };
    }

    private Entry parseNcsa(long lineNumber, String line, boolean requireCombined) {
        Matcher matcher = NCSA.matcher(line);
        if (!matcher.matches()) {
            throw new IllegalArgumentException("not in NCSA Common or Combined Log Format");
        }
        if (requireCombined && matcher.group(6) == null) {
            throw new IllegalArgumentException("no referer and user agent, which NCSA Combined Log Format has");
        }
        Instant time;
        try {
            time = OffsetDateTime.parse(matcher.group(2), NCSA_TIME).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("invalid time '" + matcher.group(2) + "'; expected dd/MMM/yyyy:HH:mm:ss Z");
        }
        Matcher request = REQUEST_LINE.matcher(matcher.group(3));
        if (!request.matches()) {
            throw new IllegalArgumentException("invalid request line '" + abbreviate(matcher.group(3)) + "'; expected METHOD /path HTTP/x.y");
        }
        return new Entry(lineNumber, time, true, matcher.group(1), request.group(1), request.group(2), null, null);
    }

    private Entry parseJson(long lineNumber, String line) {
        JsonNode node;
        try {
            node = Json.mapper().readTree(line);
        } catch (Exception e) {
            throw new IllegalArgumentException("invalid JSON");
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("a JSON line must be an object");
        }
        Instant time = jsonTime(node.get(jsonFields.get("time")));
        String client = requiredText(node, "client");
        String path = requiredText(node, "path");
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("field '" + jsonFields.get("path") + "' must start with /, got '" + abbreviate(path) + "'");
        }
        String method = optionalText(node, "method", "GET").toUpperCase(Locale.ROOT);
        return new Entry(lineNumber, time, false, client, method, path, optionalText(node, "host", null), optionalText(node, "body", null));
    }

    private Instant jsonTime(JsonNode value) {
        String name = jsonFields.get("time");
        if (value == null || value.isNull()) {
            throw new IllegalArgumentException("missing field '" + name + "'");
        }
        if (value.isNumber()) {
            return Instant.ofEpochMilli(value.asLong());
        }
        try {
            return OffsetDateTime.parse(value.asText()).toInstant();
        } catch (DateTimeParseException e) {
            try {
                return Instant.parse(value.asText());
            } catch (DateTimeParseException again) {
                throw new IllegalArgumentException("field '" + name + "' is neither ISO-8601 time nor epoch milliseconds: '"
                        + abbreviate(value.asText()) + "'");
            }
        }
    }

    private String requiredText(JsonNode node, String key) {
        JsonNode value = node.get(jsonFields.get(key));
        if (value == null || value.isNull() || value.asText().isBlank()) {
            throw new IllegalArgumentException("missing field '" + jsonFields.get(key) + "'");
        }
        return value.asText();
    }

    private String optionalText(JsonNode node, String key, String defaultValue) {
        JsonNode value = node.get(jsonFields.get(key));
        return value == null || value.isNull() ? defaultValue : value.asText();
    }

    static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 77) + "...";
    }
}
