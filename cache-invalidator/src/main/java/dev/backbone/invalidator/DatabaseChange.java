package dev.backbone.invalidator;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One row change read from a Debezium change event.
 *
 * @param schema       the database schema, such as {@code public}
 * @param table        the table, such as {@code products}
 * @param operation    Debezium's {@code op}: {@code c} create, {@code u} update, {@code d} delete, {@code r} snapshot
 *                     read or {@code t} truncate
 * @param before       the row before the change, or {@code null} for creates, truncates and deletes without an old image
 * @param after        the row after the change, or {@code null} for deletes and truncates
 * @param rowKey       the primary key from the record key as text, with the values of a composite key joined by
 *                     commas, or {@code null} when the record has no usable key
 * @param commitAtMs   the commit time in the database ({@code source.ts_ms}), epoch milliseconds
 * @param capturedAtMs when Debezium read the change (the envelope's {@code ts_ms}), epoch milliseconds, or -1 when
 *                     the event does not carry it
 * @param lsn          the WAL position of the change ({@code source.lsn}), or -1 when the event does not carry it
 */
record DatabaseChange(
        String schema,
        String table,
        String operation,
        JsonNode before,
        JsonNode after,
        String rowKey,
        long commitAtMs,
        long capturedAtMs,
        long lsn) {

    /** Returns {@code schema.table}. */
    String qualifiedTable() {
        return schema + "." + table;
    }

    /**
     * Returns an identity of this change that repeats when Debezium or a consumer replays the same event, or
     * {@code null} when the event carries no WAL position. One WAL record is one row change, except that a truncate
     * of several tables and a primary-key change (a delete and a create) share one record, so the table and the
     * operation are part of the identity.
     */
    String changeId() {
        return lsn < 0 ? null : qualifiedTable() + "/" + operation + "/" + lsn;
    }
}
