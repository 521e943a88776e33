package dev.backbone.routing;

/**
 * An invalid field of a DNS record or of a query, with what is accepted. The REST API turns it into a 400 response whose
 * JSON body names the field, the value and the accepted values; the topology puts its message on the dead letter.
 */
final class InvalidFieldException extends IllegalArgumentException {

    /** Maximum length of a value quoted in a message, so that a megabyte of input does not become a megabyte of log. */
    private static final int MAX_QUOTED_VALUE_LENGTH = 100;

    private final String field;
    private final String value;
    private final String accepted;

    /**
     * @param field    the field name as the client spells it, such as {@code ttlSeconds} or {@code addresses[2]}
     * @param value    the invalid value, or null when the field is missing
     * @param problem  what is wrong, such as {@code is missing} or {@code is out of range}
     * @param accepted the values accepted, in words
     */
    InvalidFieldException(String field, String value, String problem, String accepted) {
        super(message(field, value, problem, accepted));
        this.field = field;
        this.value = value == null ? null : shortened(value);
        this.accepted = accepted;
    }

    private static String message(String field, String value, String problem, String accepted) {
        String quotedValue = value == null ? "" : " '" + shortened(value) + "'";
        return field + quotedValue + " " + problem + "; accepted: " + accepted;
    }

    private static String shortened(String value) {
        return value.length() <= MAX_QUOTED_VALUE_LENGTH ? value : value.substring(0, MAX_QUOTED_VALUE_LENGTH) + "...";
    }

    String field() {
        return field;
    }

    /** Returns the invalid value, shortened to 100 characters, or null when the field was missing. */
    String value() {
        return value;
    }

    String accepted() {
        return accepted;
    }
}
