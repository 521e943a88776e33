package dev.backbone.events;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A key store or trust store file that configuration names with three keys under one prefix, such as
 * {@code tls.keystore.path}, {@code tls.keystore.password} and {@code tls.keystore.type}. {@link #toString()} masks the
 * password.
 *
 * @param keyPrefix the prefix of the three keys, such as {@code tls.keystore}, named in every error message
 * @param path      the file ({@code <prefix>.path})
 * @param password  the store password ({@code <prefix>.password}, default empty); a key store's private key must have
 *                  the same password
 * @param type      {@code PKCS12} or {@code JKS}, and for a trust store also {@code PEM}: a file of PEM certificates
 *                  ({@code <prefix>.type}; default PEM for a trust store whose file name ends in {@code .pem},
 *                  {@code .crt} or {@code .cer}, else PKCS12)
 * @param purpose   whether the file must contain a private key ({@link Purpose#KEY_STORE}) or trusted certificates
 */
public record TlsStore(String keyPrefix, Path path, String password, String type, Purpose purpose) {

    /** The prefix of the key store an HTTPS server serves with. */
    public static final String KEY_STORE_PREFIX = "tls.keystore";

    public static final String PKCS12 = "PKCS12";
    public static final String JKS = "JKS";
    public static final String PEM = "PEM";

    /** What the file is for. */
    public enum Purpose {
        /** A private key with its certificate chain, which a server presents. */
        KEY_STORE,
        /** Certificates that a client trusts. */
        TRUST_STORE
    }

    /**
     * Reads the three keys under {@code keyPrefix} and loads the file, so that a missing file, a wrong password, an
     * unknown type or a key store without a private key is recorded in {@code settings} as a problem naming the key and
     * the file.
     *
     * @return the store, or null when {@code <prefix>.path} is not set
     */
    public static TlsStore read(Settings settings, String keyPrefix, Purpose purpose) {
        String pathValue = settings.raw(keyPrefix + ".path");
        if (pathValue == null || pathValue.isBlank()) {
            for (String key : List.of(keyPrefix + ".password", keyPrefix + ".type")) {
                if (settings.raw(key) != null) {
                    settings.addProblem(key + " is set but " + keyPrefix + ".path is not; set " + keyPrefix
                            + ".path to the store file, or remove " + key);
                }
            }
            return null;
        }
        Path path = Path.of(pathValue.trim());
        String password = settings.raw(keyPrefix + ".password") == null ? "" : settings.raw(keyPrefix + ".password");
        List<String> accepted = purpose == Purpose.KEY_STORE ? List.of(PKCS12, JKS) : List.of(PKCS12, JKS, PEM);
        String type = settings.oneOf(keyPrefix + ".type", defaultType(path, purpose), accepted);
        var store = new TlsStore(keyPrefix, path, password, type, purpose);
        try {
            store.load();
        } catch (IllegalStateException e) {
            settings.addProblem(e.getMessage());
        }
        return store;
    }

    private static String defaultType(Path path, Purpose purpose) {
        String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean pemName = name.endsWith(".pem") || name.endsWith(".crt") || name.endsWith(".cer");
        return purpose == Purpose.TRUST_STORE && pemName ? PEM : PKCS12;
    }

    /**
     * Loads the file as a {@link KeyStore}; certificates of a PEM file become trusted certificate entries.
     *
     * @throws IllegalStateException with a one-line message that names the key, the file and the fix
     */
    public KeyStore load() {
        KeyStore store = type.equals(PEM) ? loadPem() : loadKeyStore();
        try {
            if (purpose == Purpose.KEY_STORE) {
                requirePrivateKey(store);
            } else if (store.size() == 0) {
                throw new IllegalStateException(keyPrefix + ".path=" + path + " contains no certificate; name a "
                        + "store with the certificates to trust");
            }
        } catch (KeyStoreException e) {
            throw new IllegalStateException(keyPrefix + ".path=" + path + " cannot be read: " + e.getMessage(), e);
        }
        return store;
    }

    private KeyStore loadKeyStore() {
        try (InputStream in = Files.newInputStream(path)) {
            KeyStore store = KeyStore.getInstance(type);
            store.load(in, password.toCharArray());
            return store;
        } catch (NoSuchFileException e) {
            throw new IllegalStateException(keyPrefix + ".path=" + path + " does not exist; set it to a readable "
                    + type + " file", e);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new IllegalStateException(keyPrefix + ".password is wrong for " + path + " (" + keyPrefix
                        + ".path); set it to the store's password", e);
            }
            throw new IllegalStateException(keyPrefix + ".path=" + path + " cannot be read as a " + type + " store ("
                    + e.getMessage() + "); check the file and " + keyPrefix + ".type", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(keyPrefix + ".path=" + path + " cannot be read as a " + type + " store ("
                    + e.getMessage() + "); check the file and " + keyPrefix + ".type", e);
        }
    }

    private KeyStore loadPem() {
        try (InputStream in = Files.newInputStream(path)) {
            var certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
            KeyStore store = KeyStore.getInstance(PKCS12);
            store.load(null, null);
            int index = 0;
            for (Certificate certificate : certificates) {
                store.setCertificateEntry("certificate-" + index++, certificate);
            }
            return store;
        } catch (NoSuchFileException e) {
            throw new IllegalStateException(keyPrefix + ".path=" + path + " does not exist; set it to a readable "
                    + "PEM certificate file", e);
        } catch (IOException | CertificateException e) {
            throw new IllegalStateException(keyPrefix + ".path=" + path + " cannot be read as PEM certificates ("
                    + e.getMessage() + "); check the file and " + keyPrefix + ".type", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create an in-memory trust store for " + path + ": " + e.getMessage(), e);
        }
    }

    private void requirePrivateKey(KeyStore store) throws KeyStoreException {
        for (String alias : Collections.list(store.aliases())) {
            if (store.isKeyEntry(alias)) {
                try {
                    store.getKey(alias, password.toCharArray());
                    return;
                } catch (UnrecoverableKeyException e) {
                    throw new IllegalStateException("the private key '" + alias + "' in " + path + " (" + keyPrefix
                            + ".path) does not open with " + keyPrefix + ".password; give the key the store's password", e);
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("the private key '" + alias + "' in " + path + " (" + keyPrefix
                            + ".path) cannot be read: " + e.getMessage(), e);
                }
            }
        }
        throw new IllegalStateException(keyPrefix + ".path=" + path + " contains no private key; an HTTPS server "
                + "needs a key store with a private key and its certificate");
    }

    /**
     * Returns a TLS context that trusts exactly the certificates of this store, for clients such as the edge's origin
     * client or a readiness probe.
     *
     * @throws IllegalStateException as {@link #load()} does
     */
    public SSLContext trustingContext() {
        return trustingContext(load());
    }

    /** Returns a TLS context that trusts exactly the certificates of {@code trusted}. */
    public static SSLContext trustingContext(KeyStore trusted) {
        try {
            var trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trustManagers.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trustManagers.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot create a TLS context: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "TlsStore[" + keyPrefix + ".path=" + path + ", " + keyPrefix + ".type=" + type + ", " + keyPrefix
                + ".password=" + (password.isEmpty() ? "(empty)" : PassthroughProperties.MASK) + "]";
    }
}
