package dev.backbone.routing;

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
    void internationalizedNameBecomesPunycode() {
        assertThat(HostNames.canonical("Bücher.Example")).isEqualTo("xn--bcher-kva.example");
        assertThat(HostNames.canonical("xn--bcher-kva.example")).isEqualTo("xn--bcher-kva.example");
    }

    @Test
    void invalidNamesAreRejected() {
        for (String host : List.of("", ".", "shop..example", "shop.example.com:", "shop.example.com:http")) {
            assertThatThrownBy(() -> HostNames.canonical(host)).as(host).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
