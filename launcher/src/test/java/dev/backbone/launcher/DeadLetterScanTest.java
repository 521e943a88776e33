package dev.backbone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DeadLetterScanTest {

    @Test
    void previewShowsTextWithLength() {
        assertThat(DeadLetterScan.preview("{\"a\":1}".getBytes(StandardCharsets.UTF_8), 40)).isEqualTo("{\"a\":1}  (7 bytes)");
        assertThat(DeadLetterScan.preview("caf\u00e9".getBytes(StandardCharsets.UTF_8), 40)).isEqualTo("caf\u00e9  (5 bytes)");
    }

    @Test
    void previewEscapesControlCharacters() {
        assertThat(DeadLetterScan.preview("a\nb\u0000".getBytes(StandardCharsets.UTF_8), 40)).isEqualTo("a\\x0Ab\\x00  (4 bytes)");
    }

    @Test
    void previewShowsBytesThatAreNotUtf8() {
        byte[] garbage = {(byte) 0xC3, 0x28, (byte) 0xFF, 'x'};

        assertThat(DeadLetterScan.preview(garbage, 40)).isEqualTo("\\xC3(\\xFFx  (4 bytes, not UTF-8)");
    }

    @Test
    void previewCutsLongValues() {
        assertThat(DeadLetterScan.preview("x".repeat(50).getBytes(StandardCharsets.UTF_8), 10)).isEqualTo("xxxxxxxxxx...  (50 bytes)");
    }

    @Test
    void previewOfAbsentBytesIsNone() {
        assertThat(DeadLetterScan.preview(null, 10)).isEqualTo("(none)");
    }
}
