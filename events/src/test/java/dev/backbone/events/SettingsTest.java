package dev.backbone.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {

    @Test
    void precedenceIsOverridesThenEnvironmentThenFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("service.properties");
        Files.writeString(file, "http.port=1111\nresponse.timeout.ms=5\nname=from-file\n");

        Settings settings = Settings.load(file, Map.of("BACKBONE_HTTP_PORT", "2222", "BACKBONE_RESPONSE_TIMEOUT_MS", "7", "OTHER", "x"),
                Map.of("http.port", "3333"));

        assertThat(settings.integer("http.port", 0, 0, 65535)).isEqualTo(3333);
        assertThat(settings.longValue("response.timeout.ms", 0, 0, 100)).isEqualTo(7);
        assertThat(settings.string("name", "default")).isEqualTo("from-file");
        assertThat(settings.string("missing", "default")).isEqualTo("default");
        settings.requireValid("test");
    }

    @Test
    void everyProblemIsReportedTogether() {
        Settings settings = Settings.of(Map.of("a.port", "x", "b.ms", "-5", "c.flag", "yes", "d.mode", "sideways"));
        settings.integer("a.port", 1, 0, 65535);
        settings.longValue("b.ms", 1, 0, 100);
        settings.bool("c.flag", false);
        settings.oneOf("d.mode", "client", List.of("client", "path"));
        settings.requiredString("e.servers", "the bootstrap servers");

        assertThatThrownBy(() -> settings.requireValid("svc"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid svc configuration")
                .hasMessageContaining("a.port=x is not an integer")
                .hasMessageContaining("b.ms=-5 is out of range")
                .hasMessageContaining("c.flag=yes is not a boolean; accepted: true, false")
                .hasMessageContaining("d.mode=sideways is not accepted; accepted: client, path")
                .hasMessageContaining("e.servers is required");
    }

    @Test
    void listDropsBlankItems() {
        assertThat(Settings.of(Map.of("k", " a, ,b ,")).list("k", List.of())).containsExactly("a", "b");
    }

    @Test
    void keysReadListsEveryLookedUpKey() {
        Settings settings = Settings.load(null, Map.of("BACKBONE_HTTP_PORT", "2222", "BACKBONE_HTTP_PROT", "1"), Map.of());

        settings.integer("http.port", 0, 0, 65535);
        settings.raw("admin.token");
        settings.list("lb.addresses", List.of());
        settings.requiredString("bootstrap.servers", "the bootstrap servers");

        assertThat(settings.keysRead()).containsExactly("http.port", "admin.token", "lb.addresses", "bootstrap.servers");
        assertThat(settings.requiredKeys()).containsExactly("bootstrap.servers");
        assertThat(settings.keysSet()).containsExactly("http.port", "http.prot");
    }
}
