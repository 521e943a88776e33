package dev.backbone.ingest;

import java.util.Map;

/** A line of a batch that is rejected before it is published, with its status and the fields to show the client. */
final class BatchLineException extends Exception {

    private final int status;
    private final Map<String, String> fields;

    BatchLineException(String message, Map<String, String> fields) {
        this(400, message, fields);
    }

    BatchLineException(int status, String message, Map<String, String> fields) {
        super(message, null, false, false);
        this.status = status;
        this.fields = fields;
    }

    int status() {
        return status;
    }

    Map<String, String> fields() {
        return fields;
    }
}
