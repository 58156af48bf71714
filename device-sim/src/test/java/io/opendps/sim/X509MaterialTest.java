package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.UnrecoverableKeyException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class X509MaterialTest {

    private static final TestPki PKI = TestPki.create("material test CA");
    private static final TestPki.Device EC = PKI.device("CN=dev-ec", "EC");
    private static final TestPki.Device RSA = PKI.device("CN=dev-rsa", "RSA");

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"EC", "RSA"})
    void readPrivateKey_plainPkcs8_readsTheKey(String algorithm) throws Exception {
        TestPki.Device device = device(algorithm);
        Path file = write("key.pem", TestPki.pkcs8(device.privateKey()));

        assertThat(Files.readString(file)).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(X509Material.readPrivateKey(file, null).getEncoded())
                .isEqualTo(device.privateKey().getEncoded());
    }

    @ParameterizedTest
    @ValueSource(strings = {"EC", "RSA"})
    void readPrivateKey_encryptedPkcs8RightPassphrase_decryptsTheKey(String algorithm) throws Exception {
        TestPki.Device device = device(algorithm);
        Path file = write("key.pem", TestPki.encryptedPkcs8(device.privateKey(), "s3cret"));

        assertThat(Files.readString(file)).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        assertThat(X509Material.readPrivateKey(file, "s3cret".toCharArray()).getEncoded())
                .isEqualTo(device.privateKey().getEncoded());
    }

    @Test
    void readPrivateKey_encryptedPkcs8WrongPassphrase_throwsUnrecoverableKey() throws IOException {
        Path file = write("key.pem", TestPki.encryptedPkcs8(EC.privateKey(), "s3cret"));

        assertThatThrownBy(() -> X509Material.readPrivateKey(file, "wrong".toCharArray()))
                .isInstanceOf(UnrecoverableKeyException.class).hasMessageContaining("wrong passphrase")
                .hasMessageContaining(file.toString());
    }

    @Test
    void readPrivateKey_encryptedPkcs8NoPassphrase_throwsSayingItIsEncrypted() throws IOException {
        Path file = write("key.pem", TestPki.encryptedPkcs8(EC.privateKey(), "s3cret"));

        assertThatThrownBy(() -> X509Material.readPrivateKey(file, null))
                .isInstanceOf(UnrecoverableKeyException.class).hasMessageContaining("is encrypted")
                .hasMessageContaining("no passphrase");
    }

    @Test
    void readPrivateKey_traditionalEc_readsTheKey() throws Exception {
        Path file = write("key.pem", TestPki.traditional(EC.privateKey()));

        assertThat(Files.readString(file)).startsWith("-----BEGIN EC PRIVATE KEY-----");
        assertKeyOf(EC, X509Material.readPrivateKey(file, null));
    }

    @Test
    void readPrivateKey_opensslEcparamOutput_skipsTheParametersBlock() throws Exception {
        String prime256v1 = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
        Path file = write("key.pem", prime256v1 + TestPki.traditional(EC.privateKey()));

        assertKeyOf(EC, X509Material.readPrivateKey(file, null));
    }

    @Test
    void readPrivateKey_traditionalRsa_readsTheKey() throws Exception {
        Path file = write("key.pem", TestPki.traditional(RSA.privateKey()));

        assertThat(Files.readString(file)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        assertKeyOf(RSA, X509Material.readPrivateKey(file, null));
    }

    @ParameterizedTest
    @ValueSource(strings = {"EC", "RSA"})
    void readPrivateKey_encryptedTraditional_needsTheRightPassphrase(String algorithm) throws Exception {
        TestPki.Device device = device(algorithm);
        Path file = write("key.pem", TestPki.traditionalEncrypted(device.privateKey(), "s3cret"));

        assertThat(Files.readString(file)).contains("Proc-Type: 4,ENCRYPTED");
        assertKeyOf(device, X509Material.readPrivateKey(file, "s3cret".toCharArray()));
        assertThatThrownBy(() -> X509Material.readPrivateKey(file, "wrong".toCharArray()))
                .isInstanceOf(UnrecoverableKeyException.class).hasMessageContaining("wrong passphrase");
        assertThatThrownBy(() -> X509Material.readPrivateKey(file, null))
                .isInstanceOf(UnrecoverableKeyException.class).hasMessageContaining("is encrypted");
    }

    @Test
    void readPrivateKey_fileWithoutKey_throwsNamingTheExpectedForms() throws IOException {
        Path file = write("cert.pem", TestPki.pem(EC.leaf()));

        assertThatThrownBy(() -> X509Material.readPrivateKey(file, null))
                .isInstanceOf(GeneralSecurityException.class).hasMessageContaining("no private key")
                .hasMessageContaining("PRIVATE KEY");
    }

    @Test
    void fromPem_leafAndIntermediateWithPkcs8Key_isTheDeviceChain() throws Exception {
        Path cert = write("cert.pem", TestPki.pem(EC.leaf(), EC.intermediate()));
        Path key = write("key.pem", TestPki.pkcs8(EC.privateKey()));

        X509Credential credential = X509Material.fromPem(cert, key, null, null);

        assertThat(credential.chain()).containsExactly(EC.leaf(), EC.intermediate());
        assertThat(credential.commonName()).contains("dev-ec");
    }

    @Test
    void fromPem_chainFile_appendsItsCertificatesWithoutDuplicates() throws Exception {
        Path cert = write("cert.pem", TestPki.pem(RSA.leaf()));
        Path chain = write("chain.pem", TestPki.pem(RSA.intermediate(), PKI.ca(), RSA.intermediate()));
        Path key = write("key.pem", TestPki.traditional(RSA.privateKey()));

        X509Credential credential = X509Material.fromPem(cert, key, chain, null);

        assertThat(credential.chain()).containsExactly(RSA.leaf(), RSA.intermediate(), PKI.ca());
    }

    @Test
    void fromPem_noKeyFile_takesTheKeyFromTheCertificateFile() throws Exception {
        Path both = write("device.pem", TestPki.pem(EC.leaf()) + TestPki.pkcs8(EC.privateKey()));

        assertThat(X509Material.fromPem(both, null, null, null).chain()).containsExactly(EC.leaf());
    }

    @Test
    void fromPem_keyOfAnotherDevice_throwsDoesNotMatch() throws IOException {
        Path cert = write("cert.pem", TestPki.pem(EC.leaf()));
        Path key = write("key.pem", TestPki.pkcs8(PKI.device("CN=other", "EC").privateKey()));

        assertThatThrownBy(() -> X509Material.fromPem(cert, key, null, null))
                .isInstanceOf(GeneralSecurityException.class).hasMessageContaining("does not match")
                .hasMessageContaining("CN=dev-ec");
    }

    @Test
    void fromPem_leafNotFirst_throwsSayingTheDeviceCertificateMustComeFirst() throws IOException {
        Path cert = write("cert.pem", TestPki.pem(EC.intermediate(), EC.leaf()));
        Path key = write("key.pem", TestPki.pkcs8(EC.privateKey()));

        assertThatThrownBy(() -> X509Material.fromPem(cert, key, null, null))
                .isInstanceOf(GeneralSecurityException.class).hasMessageContaining("must come first");
    }

    @Test
    void readCertificates_badFiles_throwClearly() throws IOException {
        Path empty = write("empty.pem", "");
        Path garbage = write("garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
                + "-----END CERTIFICATE-----\n");

        assertThatThrownBy(() -> X509Material.readCertificates(empty))
                .isInstanceOf(GeneralSecurityException.class).hasMessageContaining("no certificate");
        assertThatThrownBy(() -> X509Material.readCertificates(garbage))
                .isInstanceOf(GeneralSecurityException.class).hasMessageContaining("not a valid PEM file");
        assertThatThrownBy(() -> X509Material.readCertificates(dir.resolve("absent.pem")))
                .isInstanceOf(IOException.class);
    }

    private static TestPki.Device device(String algorithm) {
        return algorithm.equals("RSA") ? RSA : EC;
    }

    private static void assertKeyOf(TestPki.Device device, PrivateKey key) {
        assertThat(key.getAlgorithm()).isEqualTo(device.privateKey().getAlgorithm());
        assertThat(X509Credential.keyMatches(key, device.leaf().getPublicKey())).isTrue();
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }
}
