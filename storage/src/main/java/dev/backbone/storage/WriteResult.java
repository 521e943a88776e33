package dev.backbone.storage;

import java.util.Objects;

/**
 * The outcome of a conditional write.
 *
 * @param status         what happened
 * @param row            the row as committed when {@code status} is {@link Status#WRITTEN}, otherwise {@code null}
 * @param currentVersion the version of the row in the database when {@code status} is {@link Status#VERSION_MISMATCH},
 *                       otherwise -1
 */
public record WriteResult<T>(Status status, T row, long currentVersion) {

    /** The outcome of a conditional write. Nothing is written unless the status is {@link #WRITTEN}. */
    public enum Status {
        /** The write committed. */
        WRITTEN,
        /** No row has the given id. */
        NOT_FOUND,
        /** The row's version is not the expected one, so another write came first. */
        VERSION_MISMATCH,
        /** An insert named a category that does not exist. */
        CATEGORY_NOT_FOUND
    }

    public WriteResult {
        Objects.requireNonNull(status, "status");
        if ((status == Status.WRITTEN) != (row != null)) {
            throw new IllegalArgumentException("row must be set exactly when status is WRITTEN, got status " + status);
        }
    }

    public static <T> WriteResult<T> written(T row) {
        return new WriteResult<>(Status.WRITTEN, row, -1);
    }

    public static <T> WriteResult<T> notFound() {
        return new WriteResult<>(Status.NOT_FOUND, null, -1);
    }

    public static <T> WriteResult<T> versionMismatch(long currentVersion) {
        return new WriteResult<>(Status.VERSION_MISMATCH, null, currentVersion);
    }

    public static <T> WriteResult<T> categoryNotFound() {
        return new WriteResult<>(Status.CATEGORY_NOT_FOUND, null, -1);
    }
}
