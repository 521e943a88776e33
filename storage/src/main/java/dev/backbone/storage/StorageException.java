package dev.backbone.storage;

import java.sql.SQLException;

/**
 * A database operation that failed. {@link #retriable()} returns whether the same operation may succeed when tried
 * again, such as after a lost connection or a serialization failure; other failures are bugs or bad data.
 */
public final class StorageException extends RuntimeException {

    private final boolean retriable;

    public StorageException(String message, SQLException cause) {
        super(message + ": " + cause.getMessage(), cause);
        this.retriable = isRetriable(cause);
    }

    public boolean retriable() {
        return retriable;
    }

    /**
     * Classifies by SQLSTATE class: 08 connection exception, 40 transaction rollback (serialization failure,
     * deadlock), 53 insufficient resources, 57 operator intervention (such as a server shutdown). A
     * {@link java.sql.SQLTransientException}, which HikariCP throws when no connection is free in time, and an error
     * without a SQLSTATE count as retriable too.
     */
    static boolean isRetriable(SQLException error) {
        if (error instanceof java.sql.SQLTransientException) {
            return true;
        }
        String state = error.getSQLState();
        if (state == null || state.length() < 2) {
            return true;
        }
        return switch (state.substring(0, 2)) {
            case "08", "40", "53", "57" -> true;
            default -> false;
        };
    }
}
