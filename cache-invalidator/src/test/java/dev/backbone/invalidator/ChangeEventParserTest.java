package dev.backbone.invalidator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class ChangeEventParserTest {

    private static final String SOURCE = """
            "source": {"version": "3.6.1.Final", "connector": "postgresql", "name": "backbone-cdc",
                       "ts_ms": 1700000000123, "db": "backbone", "schema": "public", "table": "products",
                       "txId": 771, "lsn": 24023128}""";

    private static final String UPDATE_PAYLOAD = """
            {"before": {"id": 42, "category_id": 7, "name": "Lamp", "version": 3},
             "after": {"id": 42, "category_id": 7, "name": "Desk lamp", "version": 4},
             %s, "op": "u", "ts_ms": 1700000000135}""".formatted(SOURCE);

    private final ChangeEventParser parser = new ChangeEventParser();

    @Test
    void parsesUpdateWithoutSchemaWrapper() {
        DatabaseChange change = parser.parse("public.products:42", UPDATE_PAYLOAD).orElseThrow();

        assertThat(change.qualifiedTable()).isEqualTo("public.products");
        assertThat(change.operation()).isEqualTo("u");
        assertThat(change.before().get("version").asLong()).isEqualTo(3);
        assertThat(change.after().get("version").asLong()).isEqualTo(4);
        assertThat(change.rowKey()).isEqualTo("42");
        assertThat(change.commitAtMs()).isEqualTo(1700000000123L);
        assertThat(change.capturedAtMs()).isEqualTo(1700000000135L);
    }

    @Test
    void parsesUpdateWithSchemaWrapper() {
        String wrapped = """
                {"schema": {"type": "struct", "name": "backbone-cdc.public.products.Envelope", "optional": false,
                            "fields": []},
                 "payload": %s}""".formatted(UPDATE_PAYLOAD);
        String connectKey = """
                {"schema": {"type": "struct", "fields": [{"type": "int64", "optional": false, "field": "id"}]},
                 "payload": {"id": 42}}""";

        DatabaseChange change = parser.parse(connectKey, wrapped).orElseThrow();

        assertThat(change.qualifiedTable()).isEqualTo("public.products");
        assertThat(change.operation()).isEqualTo("u");
        assertThat(change.after().get("name").asText()).isEqualTo("Desk lamp");
        assertThat(change.rowKey()).isEqualTo("42");
        assertThat(change.commitAtMs()).isEqualTo(1700000000123L);
    }

    @Test
    void parsesDeleteWithoutAfterImage() {
        String delete = """
                {"before": {"id": 42, "category_id": 7, "version": 4}, "after": null, %s, "op": "d",
                 "ts_ms": 1700000000140}""".formatted(SOURCE);

        DatabaseChange change = parser.parse("public.products:42", delete).orElseThrow();

        assertThat(change.operation()).isEqualTo("d");
        assertThat(change.after()).isNull();
        assertThat(change.before().get("id").asLong()).isEqualTo(42);
    }

    @Test
    void parsesDeleteWithoutAnyImageKeepingKey() {
        String delete = """
                {"before": null, "after": null, %s, "op": "d", "ts_ms": 1700000000140}""".formatted(SOURCE);

        DatabaseChange change = parser.parse("{\"id\":42}", delete).orElseThrow();

        assertThat(change.before()).isNull();
        assertThat(change.after()).isNull();
        assertThat(change.rowKey()).isEqualTo("42");
    }

    @Test
    void compositeKeyJoinedWithCommas() {
        DatabaseChange change = parser.parse("{\"order_id\":5,\"line\":\"a\"}", UPDATE_PAYLOAD).orElseThrow();

        assertThat(change.rowKey()).isEqualTo("5,a");
    }

    @Test
    void unreadableKeyIsNotAnError() {
        DatabaseChange change = parser.parse("{not json", UPDATE_PAYLOAD).orElseThrow();

        assertThat(change.rowKey()).isNull();
    }

    @Test
    void tombstonesAreSkipped() {
        assertThat(parser.parse("public.products:42", null)).isEmpty();
        assertThat(parser.parse("public.products:42", "")).isEmpty();
        assertThat(parser.parse("public.products:42", "null")).isEmpty();
        assertThat(parser.parse("public.products:42", "{\"schema\": {\"type\": \"struct\"}, \"payload\": null}")).isEmpty();
    }

    @Test
    void logicalDecodingMessageIsSkipped() {
        String message = """
                {"op": "m", "ts_ms": 1700000000140, "source": {"ts_ms": 1700000000123},
                 "message": {"prefix": "other", "content": "aGVsbG8="}}""";

        assertThat(parser.parse(null, message)).isEqualTo(Optional.empty());
    }

    @Test
    void missingCaptureTimeIsMinusOne() {
        String update = """
                {"before": null, "after": {"id": 1}, %s, "op": "u"}""".formatted(SOURCE);

        assertThat(parser.parse(null, update).orElseThrow().capturedAtMs()).isEqualTo(-1);
    }

    @Test
    void rejectsInvalidJson() {
        assertThatThrownBy(() -> parser.parse(null, "{\"op\": \"u\""))
                .isInstanceOf(MalformedChangeEventException.class)
                .hasMessageContaining("not valid JSON");
    }

    @Test
    void rejectsNonObject() {
        assertThatThrownBy(() -> parser.parse(null, "[1, 2]"))
                .isInstanceOf(MalformedChangeEventException.class)
                .hasMessageContaining("ARRAY");
    }

    @Test
    void rejectsMissingOperation() {
        String noOp = """
                {"before": null, "after": {"id": 1}, %s}""".formatted(SOURCE);

        assertThatThrownBy(() -> parser.parse(null, noOp))
                .isInstanceOf(MalformedChangeEventException.class)
                .hasMessageContaining("op is missing");
    }

    @Test
    void rejectsUnknownOperation() {
        String unknown = """
                {"before": null, "after": {"id": 1}, %s, "op": "x"}""".formatted(SOURCE);

        assertThatThrownBy(() -> parser.parse(null, unknown))
                .isInstanceOf(MalformedChangeEventException.class)
                .hasMessageContaining("op=x");
    }

    @Test
    void rejectsMissingSource() {
        assertThatThrownBy(() -> parser.parse(null, "{\"op\": \"u\", \"after\": {\"id\": 1}}"))
                .isInstanceOf(MalformedChangeEventException.class)
                .hasMessageContaining("source is missing");
    }

    @Test
    void rejectsMissingCommitTime() {
        String noCommitTime = """
                {"op": "u", "after": {"id": 1}, "source": {"schema": "public", "table": "products"}}""";

        assertThatThrownBy(() -> parser.parse(null, noCommitTime))
                .isInstanceOf(MalformedChangeEventException.class)
                .hasMessageContaining("source.ts_ms");
    }

    @Test
    void rejectsUpdateWithoutAfterImage() {
        String update = """
                {"before": {"id": 1}, "after": null, %s, "op": "u"}""".formatted(SOURCE);

        assertThatThrownBy(() -> parser.parse(null, update))
                .isInstanceOf(MalformedChangeEventException.class)
                .hasMessageContaining("after is missing for op=u");
    }

    @Test
    void rejectsRowImageThatIsNotObject() {
        String update = """
                {"before": null, "after": "42", %s, "op": "c"}""".formatted(SOURCE);

        assertThatThrownBy(() -> parser.parse(null, update))
                .isInstanceOf(MalformedChangeEventException.class)
                .hasMessageContaining("after is a JSON STRING");
    }
}
