package dev.backbone.embedded;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A self-signed server certificate for HTTPS on this machine: a new EC P-256 key, and a certificate for it whose
 * subject alternative names are the given host names and IP addresses. It is written twice into one directory: as a
 * PKCS12 key store with the private key, readable by the owner only, for the servers, and as a PEM certificate for
 * clients to trust, such as {@code curl --cacert}.
 *
 * @param keyStore         the PKCS12 key store with the private key and the certificate, under the alias {@value #ALIAS}
 * @param keyStorePassword the password of the key store and of its private key: 32 random hexadecimal characters
 * @param certificatePem   the certificate alone, PEM encoded
 * @param certificate      the certificate
 */
public record SelfSignedCertificate(Path keyStore, String keyStorePassword, Path certificatePem,
                                    X509Certificate certificate) {

    public static final String KEY_STORE_FILE = "backbone-localhost.p12";
    public static final String CERTIFICATE_FILE = "backbone-localhost.pem";
    public static final String ALIAS = "backbone";
    /** The names of {@link #forLocalhost}: what a client on this machine connects to. */
    public static final List<String> LOCAL_HOST_NAMES = List.of("localhost");
    public static final List<String> LOCAL_IP_ADDRESSES = List.of("127.0.0.1");

    /**
     * Creates a certificate for {@code localhost} and {@code 127.0.0.1}, valid for {@code validity} from a minute ago,
     * and writes it to {@code directory} (created when missing), replacing the files of an earlier one.
     *
     * @throws UncheckedIOException  when the files cannot be written
     * @throws IllegalStateException when the JDK cannot make or sign the key
     */
    public static SelfSignedCertificate forLocalhost(Path directory, Duration validity) {
        return create(directory, LOCAL_HOST_NAMES, LOCAL_IP_ADDRESSES, validity);
    }

    /** Creates a certificate for the given DNS names and IP addresses, as {@link #forLocalhost} does. */
    public static SelfSignedCertificate create(Path directory, List<String> dnsNames, List<String> ipAddresses,
                                               Duration validity) {
        if (dnsNames.isEmpty() && ipAddresses.isEmpty()) {
            throw new IllegalArgumentException("a certificate needs at least one DNS name or IP address");
        }
        X509Certificate certificate;
        KeyPair keyPair;
        try {
            var generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            keyPair = generator.generateKeyPair();
            certificate = sign(keyPair, dnsNames, ipAddresses, validity);
        } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
            throw new IllegalStateException("cannot create a self-signed certificate: " + e.getMessage(), e);
        }

        String password = randomPassword();
        Path keyStore = directory.resolve(KEY_STORE_FILE);
        Path pem = directory.resolve(CERTIFICATE_FILE);
        try {
            Files.createDirectories(directory);
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(ALIAS, keyPair.getPrivate(), password.toCharArray(), new Certificate[] {certificate});
            Files.deleteIfExists(keyStore);
            createOwnerOnly(keyStore);
            try (OutputStream out = Files.newOutputStream(keyStore, StandardOpenOption.TRUNCATE_EXISTING)) {
                store.store(out, password.toCharArray());
            }
            Files.writeString(pem, toPem(certificate), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the certificate files to " + directory + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot write the PKCS12 key store " + keyStore + ": " + e.getMessage(), e);
        }
        return new SelfSignedCertificate(keyStore, password, pem, certificate);
    }

    private static X509Certificate sign(KeyPair keyPair, List<String> dnsNames, List<String> ipAddresses, Duration validity)
            throws GeneralSecurityException, OperatorCreationException, CertIOException {
        String commonName = dnsNames.isEmpty() ? ipAddresses.get(0) : dnsNames.get(0);
        var subject = new X500Name("CN=" + commonName + ", O=Backbone local certificate");
        Instant now = Instant.now();
        var serial = new BigInteger(63, new SecureRandom());
        var builder = new JcaX509v3CertificateBuilder(subject, serial, Date.from(now.minus(Duration.ofMinutes(1))),
                Date.from(now.plus(validity)), subject, keyPair.getPublic());

        List<GeneralName> names = new ArrayList<>();
        dnsNames.forEach(name -> names.add(new GeneralName(GeneralName.dNSName, name)));
        ipAddresses.forEach(address -> names.add(new GeneralName(GeneralName.iPAddress, address)));
        var extensions = new JcaX509ExtensionUtils();
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
        // An end-entity certificate that clients trust directly, as its own anchor: no CA, server authentication only.
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        builder.addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(keyPair.getPublic()));
        builder.addExtension(Extension.authorityKeyIdentifier, false,
                extensions.createAuthorityKeyIdentifier(keyPair.getPublic()));

        var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(keyPair.getPrivate());
        return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }

    /** Returns an in-memory trust store whose only entry is this certificate, for clients that should trust it alone. */
    public KeyStore trustStore() {
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setCertificateEntry(ALIAS, certificate);
            return store;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot create an in-memory trust store: " + e.getMessage(), e);
        }
    }

    private static void createOwnerOnly(Path file) throws IOException {
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(file);
        }
    }

    private static String randomPassword() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** Returns the certificate as PEM text: base64 in lines of 64 characters between the BEGIN and END lines. */
    static String toPem(X509Certificate certificate) throws GeneralSecurityException {
        var encoder = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        return "-----BEGIN CERTIFICATE-----\n" + encoder.encodeToString(certificate.getEncoded())
                + "\n-----END CERTIFICATE-----\n";
    }

    @Override
    public String toString() {
        return "SelfSignedCertificate[keyStore=" + keyStore + ", certificatePem=" + certificatePem + ", subject="
                + certificate.getSubjectX500Principal() + ", notAfter=" + certificate.getNotAfter().toInstant() + "]";
    }
}
