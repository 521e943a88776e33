package dev.backbone.appserver;

import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code If-Match} precondition of a write: absent, {@code *} (the row must exist), or one strong entity tag
 * holding a row version, as sent in {@code ETag}. A bare version without quotes is accepted too.
 *
 * @param present whether the request has an {@code If-Match} header
 * @param version the version the row must have, or empty for none or {@code *}
 */
record IfMatch(boolean present, OptionalLong version) {

    static final String HEADER = "if-match";
    static final String ACCEPTED = "one entity tag as sent in ETag, such as \"3\", or *";
    private static final Pattern VERSION_TAG = Pattern.compile("\"?([0-9]{1,18})\"?");

    static final IfMatch NONE = new IfMatch(false, OptionalLong.empty());

    /** @throws InvalidInputException for a list of tags, a weak tag or a tag that is not a version */
    static IfMatch parse(String header) throws InvalidInputException {
        if (header == null) {
            return NONE;
        }
        String value = header.trim();
        if (value.equals("*")) {
            return new IfMatch(true, OptionalLong.empty());
        }
        Matcher matcher = VERSION_TAG.matcher(value);
        // A tag opened but not closed (or the reverse) is not an entity tag.
        boolean balanced = value.startsWith("\"") == value.endsWith("\"");
        if (!matcher.matches() || !balanced) {
            String shortValue = InvalidInputException.shorten(value);
            String reason = value.startsWith("W/") ? "a weak entity tag never matches a write precondition"
                    : value.contains(",") ? "only one entity tag is accepted" : "it is not a version entity tag";
            throw new InvalidInputException("If-Match " + shortValue + " is invalid: " + reason + "; accepted: " + ACCEPTED,
                    "If-Match", value, ACCEPTED);
        }
        return new IfMatch(true, OptionalLong.of(Long.parseLong(matcher.group(1))));
    }

    /** Returns the {@code ETag} value of a row version, such as {@code "3"}. */
    static String etag(long version) {
        return "\"" + version + "\"";
    }
}
