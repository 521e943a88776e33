package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AccessLogParserTest {

    private final AccessLogParser auto = new AccessLogParser(AccessLogParser.Format.auto, Map.of());

    @Test
    void commonLogFormatLine() {
        var entry = auto.parse(3, "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif?x=1 HTTP/1.0\" 200 2326").orElseThrow();

        assertThat(entry.lineNumber()).isEqualTo(3);
        assertThat(entry.clientAddress()).isEqualTo("127.0.0.1");
        assertThat(entry.method()).isEqualTo("GET");
        assertThat(entry.path()).isEqualTo("/apache_pb.gif?x=1");
        assertThat(entry.time()).isEqualTo(Instant.parse("2000-10-10T20:55:36Z"));
        assertThat(entry.secondsOnly()).isTrue();
    }

    @Test
    void combinedLogFormatLine() {
        var combined = new AccessLogParser(AccessLogParser.Format.combined, Map.of());
        var entry = combined.parse(1, "10.1.2.3 - - [04/Dec/2026:20:00:01 +0000] \"PUT /products/7 HTTP/1.1\" 200 12 "
                + "\"https://shop.example.com/\" \"Mozilla/5.0 (X11; Linux x86_64)\"").orElseThrow();

        assertThat(entry.method()).isEqualTo("PUT");
        assertThat(entry.path()).isEqualTo("/products/7");
    }

    @Test
    void combinedFormatRejectsCommonLine() {
        var combined = new AccessLogParser(AccessLogParser.Format.combined, Map.of());

        assertThatThrownBy(() -> combined.parse(1, "h - - [04/Dec/2026:20:00:01 +0000] \"GET / HTTP/1.1\" 200 1"))
                .hasMessageContaining("referer");
    }

    @Test
    void jsonLineWithDefaultFields() {
        var entry = auto.parse(2, "{\"time\":\"2026-12-04T20:00:00.250Z\",\"client\":\"203.0.113.9\",\"method\":\"get\","
                + "\"path\":\"/products/1\",\"host\":\"other.example\"}").orElseThrow();

        assertThat(entry.time()).isEqualTo(Instant.parse("2026-12-04T20:00:00.250Z"));
        assertThat(entry.method()).isEqualTo("GET");
        assertThat(entry.host()).isEqualTo("other.example");
        assertThat(entry.secondsOnly()).isFalse();
    }

    @Test
    void jsonLineWithMappedFieldsAndEpochMillis() {
        var parser = new AccessLogParser(AccessLogParser.Format.json, Map.of("time", "ts", "client", "remote_addr", "path", "uri"));
        var entry = parser.parse(1, "{\"ts\":1764878400000,\"remote_addr\":\"::1\",\"uri\":\"/x\"}").orElseThrow();

        assertThat(entry.time()).isEqualTo(Instant.ofEpochMilli(1764878400000L));
        assertThat(entry.clientAddress()).isEqualTo("::1");
        assertThat(entry.method()).isEqualTo("GET");
    }

    @Test
    void unknownJsonFieldKeyIsRejected() {
        assertThatThrownBy(() -> new AccessLogParser(AccessLogParser.Format.json, Map.of("when", "ts")))
                .hasMessageContaining("unknown JSON field key 'when'").hasMessageContaining("accepted");
    }

    @Test
    void blankLineIsSkippedQuietly() {
        assertThat(auto.parse(1, "   ")).isEmpty();
    }

    @Test
    void badLinesSayWhatIsWrong() {
        assertThatThrownBy(() -> auto.parse(1, "garbage")).hasMessageContaining("NCSA");
        assertThatThrownBy(() -> auto.parse(1, "h - - [99/Foo/2026:20:00:01 +0000] \"GET / HTTP/1.1\" 200 1")).hasMessageContaining("invalid time");
        assertThatThrownBy(() -> auto.parse(1, "h - - [04/Dec/2026:20:00:01 +0000] \"-\" 400 0")).hasMessageContaining("request line");
        assertThatThrownBy(() -> auto.parse(1, "{\"time\":1,\"client\":\"a\"}")).hasMessageContaining("missing field 'path'");
        assertThatThrownBy(() -> auto.parse(1, "{\"time\":\"yesterday\",\"client\":\"a\",\"path\":\"/\"}")).hasMessageContaining("ISO-8601");
        assertThatThrownBy(() -> auto.parse(1, "{not json")).hasMessageContaining("invalid JSON");
    }
}
