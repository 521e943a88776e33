package dev.backbone.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class HostNamesTest {

    @Test
    void canonicalFormDropsPortDotAndCase() {
        assertThat(HostNames.canonical("Shop.Example.COM")).isEqualTo("shop.example.com");
        assertThat(HostNames.canonical("shop.example.com.")).isEqualTo("shop.example.com");
        assertThat(HostNames.canonical("shop.example.com:8080")).isEqualTo("shop.example.com");
        assertThat(HostNames.canonical("SHOP.example.com.:443")).isEqualTo("shop.example.com");
    }

    @Test
    void rememberedNamesMatchAndInvalidStayErrors() {
        for (int i = 0; i < HostNames.MAX_REMEMBERED + 10; i++) {
            assertThat(HostNames.canonical("Host-" + i + ".Example.")).isEqualTo("host-" + i + ".example");
        }
        assertThat(HostNames.canonical("Host-7.Example.")).isEqualTo("host-7.example");
        for (int attempt = 0; attempt < 2; attempt++) {
            assertThatThrownBy(() -> HostNames.canonical("bad_host.example"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid label 'bad_host'");
        }
    }

    @Test
    void internationalizedNameBecomesPunycode() {
        assertThat(HostNames.canonical("Bücher.Example")).isEqualTo("xn--bcher-kva.example");
        assertThat(HostNames.canonical("xn--bcher-kva.example")).isEqualTo("xn--bcher-kva.example");
    }

    @Test
    void longestLabelAndNameAccepted() {
        String label63 = "a".repeat(63);
        String name253 = String.join(".", label63, label63, label63, "b".repeat(61));

        assertThat(HostNames.canonical(label63 + ".example")).isEqualTo(label63 + ".example");
        assertThat(name253).hasSize(253);
        assertThat(HostNames.canonical(name253 + ".")).isEqualTo(name253);
        assertThat(HostNames.canonical("a-1.b2.c")).isEqualTo("a-1.b2.c");
    }

    @Test
    void invalidNamesAreRejected() {
        String label63 = "a".repeat(63);
        for (String host : List.of("", ".", "shop..example", "shop.example.com:", "shop.example.com:http",
                "shop.example.com..", "my_host.example", "-shop.example", "shop-.example", "shop example.com",
                "a".repeat(64) + ".example", String.join(".", label63, label63, label63, "b".repeat(62)))) {
            assertThatThrownBy(() -> HostNames.canonical(host)).as(host).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void invalidLabelNamedInMessage() {
        assertThatThrownBy(() -> HostNames.canonical("shop.my_site.example"))
                .hasMessageContaining("invalid label 'my_site'");
        assertThatThrownBy(() -> HostNames.canonical(String.join(".", "a".repeat(63), "a".repeat(63), "a".repeat(63), "b".repeat(62))))
                .hasMessageContaining("254 characters");
    }
}
