package dev.backbone.invalidator;

/** Thrown when a record of {@code backbone.db-changes} is not a Debezium change event this module can read. */
final class MalformedChangeEventException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    MalformedChangeEventException(String message) {
        super(message);
    }

    MalformedChangeEventException(String message, Throwable cause) {
        super(message, cause);
    }
}
