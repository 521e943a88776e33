package dev.backbone.appserver;

/** An invalid request parameter or body field, with its value and what is accepted, rejected with status 400. */
final class InvalidInputException extends Exception {

    /** Longer values are cut in error responses, so that a huge input is not echoed back whole. */
    static final int MAX_SHOWN_VALUE_LENGTH = 100;

    private final String field;
    private final String value;
    private final String accepted;

    InvalidInputException(String message, String field, String value, String accepted) {
        super(message);
        this.field = field;
        this.value = shorten(value);
        this.accepted = accepted;
    }

    String field() {
        return field;
    }

    String value() {
        return value;
    }

    String accepted() {
        return accepted;
    }

    static String shorten(String value) {
        if (value == null) {
            return "";
        }
        return value.length() <= MAX_SHOWN_VALUE_LENGTH ? value : value.substring(0, MAX_SHOWN_VALUE_LENGTH) + "...";
    }
}
