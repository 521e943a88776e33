package dev.backbone.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Errors of {@link TlsStore}; key stores that load are tested where certificates are made, in the server modules. */
class TlsStoreTest {

    @Test
    void unsetPathMeansNoStore() {
        var settings = Settings.of(Map.of());

        assertThat(TlsStore.read(settings, TlsStore.KEY_STORE_PREFIX, TlsStore.Purpose.KEY_STORE)).isNull();
        settings.requireValid("test");
    }

    @Test
    void passwordWithoutPathIsAProblem() {
        var settings = Settings.of(Map.of("tls.keystore.password", "secret-1"));

        TlsStore.read(settings, TlsStore.KEY_STORE_PREFIX, TlsStore.Purpose.KEY_STORE);

        assertThatThrownBy(() -> settings.requireValid("test"))
                .hasMessageContaining("tls.keystore.password is set but tls.keystore.path is not")
                .hasMessageNotContaining("secret-1");
    }

    @Test
    void missingFileNamesKeyAndFile(@TempDir Path dir) {
        Path missing = dir.resolve("nowhere.p12");
        var settings = Settings.of(Map.of("tls.keystore.path", missing.toString()));

        TlsStore.read(settings, TlsStore.KEY_STORE_PREFIX, TlsStore.Purpose.KEY_STORE);

        assertThatThrownBy(() -> settings.requireValid("test"))
                .hasMessageContaining("tls.keystore.path=" + missing + " does not exist");
    }

    @Test
    void garbageKeyStoreNamesTypeKey(@TempDir Path dir) throws Exception {
        Path garbage = Files.writeString(dir.resolve("garbage.p12"), "not a key store");
        var settings = Settings.of(Map.of("tls.keystore.path", garbage.toString()));

        TlsStore.read(settings, TlsStore.KEY_STORE_PREFIX, TlsStore.Purpose.KEY_STORE);

        assertThatThrownBy(() -> settings.requireValid("test"))
                .hasMessageContaining("tls.keystore.path=" + garbage + " cannot be read as a PKCS12 store")
                .hasMessageContaining("tls.keystore.type");
    }

    @Test
    void pemTypeIsRejectedForKeyStores(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("server.pem"), "x");
        var settings = Settings.of(Map.of("tls.keystore.path", file.toString(), "tls.keystore.type", "PEM"));

        TlsStore.read(settings, TlsStore.KEY_STORE_PREFIX, TlsStore.Purpose.KEY_STORE);

        assertThatThrownBy(() -> settings.requireValid("test"))
                .hasMessageContaining("tls.keystore.type=PEM is not accepted; accepted: PKCS12, JKS");
    }

    @Test
    void pemTrustStoreWithoutCertificatesIsAProblem(@TempDir Path dir) throws Exception {
        Path empty = Files.writeString(dir.resolve("ca.pem"), "");
        var settings = Settings.of(Map.of("origin.truststore.path", empty.toString()));

        var store = TlsStore.read(settings, "origin.truststore", TlsStore.Purpose.TRUST_STORE);

        assertThat(store.type()).isEqualTo(TlsStore.PEM);
        assertThatThrownBy(() -> settings.requireValid("test"))
                .hasMessageContaining("origin.truststore.path=" + empty + " contains no certificate");
    }

    @Test
    void toStringMasksPassword(@TempDir Path dir) {
        var store = new TlsStore("tls.keystore", dir.resolve("k.p12"), "hunter22", TlsStore.PKCS12, TlsStore.Purpose.KEY_STORE);

        assertThat(store.toString()).doesNotContain("hunter22").contains("tls.keystore.password=" + PassthroughProperties.MASK);
    }
}
