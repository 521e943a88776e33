package dev.backbone.cdn;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * One HTTP header field.
 *
 * @param name  the field name as received
 * @param value the field value
 */
record Header(String name, String value) {

    /** Returns the values of every field named {@code name} (case-insensitive) joined with ", ", or null when none. */
    static String joined(List<Header> headers, String name) {
        String joined = headers.stream()
                .filter(header -> header.name().equalsIgnoreCase(name))
                .map(Header::value)
                .collect(Collectors.joining(", "));
        return joined.isEmpty() && headers.stream().noneMatch(header -> header.name().equalsIgnoreCase(name)) ? null : joined;
    }

    /** Returns the value of the first field named {@code name} (case-insensitive), or null when none. */
    static String first(List<Header> headers, String name) {
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase(name)) {
                return header.value();
            }
        }
        return null;
    }

    String lowerCaseName() {
        return name.toLowerCase(Locale.ROOT);
    }
}
