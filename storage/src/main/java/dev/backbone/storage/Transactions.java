package dev.backbone.storage;

import java.sql.Connection;
import java.sql.SQLException;

/** Transaction helpers shared by the repositories. */
final class Transactions {

    private Transactions() {
    }

    /** Rolls back after {@code failure}; a failed rollback is attached to it as suppressed, so the first error wins. */
    static void rollbackQuietly(Connection connection, Exception failure) {
        try {
            connection.rollback();
        } catch (SQLException rollbackError) {
            failure.addSuppressed(rollbackError);
        }
    }
}
