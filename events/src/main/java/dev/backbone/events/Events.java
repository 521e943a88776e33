package dev.backbone.events;

/** Argument checks shared by the event records; each failure names the field and what is accepted. */
final class Events {

    private Events() {
    }

    static void requireSchemaVersion(int actual, int supported, String eventType) {
        if (actual != supported) {
            throw new IllegalArgumentException(
                    "unsupported schemaVersion " + actual + " for " + eventType + "; accepted: " + supported);
        }
    }

    static void requireText(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(field + " is missing or blank");
        }
    }
}
