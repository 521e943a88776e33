package dev.backbone.appserver;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** The parameters of a raw query string such as {@code page=2&size=20}; {@link #parse} rejects a repeated name. */
final class QueryParameters {

    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,9}");

    private final Map<String, String> values;

    private QueryParameters(Map<String, String> values) {
        this.values = values;
    }

    /** @throws InvalidInputException when a name is given twice or a part is not valid percent-encoding */
    static QueryParameters parse(String query) throws InvalidInputException {
        Map<String, String> values = new HashMap<>();
        if (query == null || query.isEmpty()) {
            return new QueryParameters(values);
        }
        for (String part : query.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int equals = part.indexOf('=');
            String name = decode(equals < 0 ? part : part.substring(0, equals));
            String value = equals < 0 ? "" : decode(part.substring(equals + 1));
            if (values.put(name, value) != null) {
                throw new InvalidInputException("query parameter " + InvalidInputException.shorten(name) + " is given twice",
                        name, value, "one value");
            }
        }
        return new QueryParameters(values);
    }

    /**
     * Returns an integer parameter from {@code min} to {@code max}, or {@code defaultValue} when absent.
     *
     * @throws InvalidInputException naming the parameter, its value and the accepted range
     */
    int integer(String name, int defaultValue, int min, int max) throws InvalidInputException {
        String value = values.get(name);
        if (value == null) {
            return defaultValue;
        }
        String accepted = "an integer from " + min + " to " + max;
        if (DIGITS.matcher(value).matches()) {
            int parsed = Integer.parseInt(value);
            if (parsed >= min && parsed <= max) {
                return parsed;
            }
        }
        throw new InvalidInputException(name + "=" + InvalidInputException.shorten(value) + " is invalid; accepted: " + accepted,
                name, value, accepted);
    }

    private static String decode(String text) throws InvalidInputException {
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("query " + InvalidInputException.shorten(text) + " is not valid percent-encoding",
                    "query", text, "a query string in application/x-www-form-urlencoded form");
        }
    }
}
