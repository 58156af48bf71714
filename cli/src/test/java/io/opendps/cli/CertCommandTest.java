package io.opendps.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opendps.broker.tls.Certificates;
import io.opendps.broker.tls.PrivateKeyPem;
import io.opendps.broker.tls.TlsMaterialException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** {@code opendps cert}: files, certificate contents, chains validated by the JDK's PKIX, and the error paths. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CertCommandTest {

    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

    @TempDir
    Path dir;

    record Run(int exitCode, String out, String err) {
    }

    static Run opendps(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = OpenDpsMain.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private Run ok(String... args) {
        Run run = opendps(args);
        assertThat(run.exitCode()).as("exit code; stderr: %s", run.err()).isZero();
        return run;
    }

    private String dir() {
        return dir.toString();
    }

    private Path file(String name) {
        return dir.resolve(name);
    }

    private X509Certificate cert(String name) {
        return Certificates.readCertificates(file(name)).get(0);
    }

    private void rootCa(String name, String... extra) {
        ok(concat(new String[] {"cert", "root-ca", "--name", name, "--out-dir", dir()}, extra));
    }

    private void intermediate(String name, String ca, String... extra) {
        ok(concat(new String[] {"cert", "intermediate", "--name", name, "--ca", file(ca + ".pem").toString(),
            "--ca-key", file(ca + ".key.pem").toString(), "--out-dir", dir()}, extra));
    }

    private Run device(String cn, String ca, String... extra) {
        return deviceWithFiles(cn, ca + ".pem", ca + ".key.pem", extra);
    }

    private Run deviceWithFiles(String cn, String caFile, String caKeyFile, String... extra) {
        return opendps(concat(new String[] {"cert", "device", "--cn", cn, "--ca", file(caFile).toString(),
            "--ca-key", file(caKeyFile).toString(), "--out-dir", dir()}, extra));
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static void validate(List<X509Certificate> path, X509Certificate root) throws Exception {
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX")
                .validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
    }

    @Test
    void rootIntermediateDevice_fullChain_validatesWithPkix() throws Exception {
        rootCa("root");
        intermediate("inter", "root");
        Run run = device("device-01", "inter", "--ca-chain", file("inter-full-chain.pem").toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        X509Certificate root = cert("root.pem");
        X509Certificate inter = cert("inter.pem");
        X509Certificate device = cert("device-01.pem");
        List<X509Certificate> fullChain = Certificates.readCertificates(file("device-01-full-chain.pem"));
        assertThat(fullChain).containsExactly(device, inter);
        assertThat(Certificates.readCertificates(file("inter-full-chain.pem"))).containsExactly(inter);
        validate(fullChain, root);
        assertThat(device.getSubjectX500Principal().getName()).isEqualTo("CN=device-01");
        assertThat(device.getExtendedKeyUsage()).containsExactly(CLIENT_AUTH);
        assertThat(device.getKeyUsage()[0]).as("digitalSignature").isTrue();
        assertThat(device.getBasicConstraints()).isEqualTo(-1);
        assertThat(root.getBasicConstraints()).isEqualTo(Integer.MAX_VALUE);
        assertThat(inter.getBasicConstraints()).isEqualTo(Integer.MAX_VALUE);
        assertThat(run.out()).contains("device-01.pem", "CN=device-01", Certificates.sha256Thumbprint(device),
                "expires:", "mode 0600").doesNotContain("PRIVATE KEY");
    }

    @Test
    void files_keysAreOwnerOnly_andPkcs8() throws Exception {
        rootCa("root");

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file("root.key.pem"))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file("root.pem"))))
                .isEqualTo("rw-r--r--");
        assertThat(Files.readString(file("root.key.pem"))).startsWith("-----BEGIN PRIVATE KEY-----");
        PrivateKey key = PrivateKeyPem.read(file("root.key.pem"), null);
        assertThat(key).isInstanceOf(ECPrivateKey.class);
        assertThat(Certificates.keyMatches(key, cert("root.pem"))).isTrue();
        assertThat(cert("root.pem").getNotAfter().toInstant())
                .isBetween(Instant.now().plus(Duration.ofDays(3649)), Instant.now().plus(Duration.ofDays(3651)));
    }

    @Test
    void device_signedByRoot_fullChainIsTheLeafOnly() throws Exception {
        rootCa("root", "--cn", "Contoso Root");
        Run run = device("dev:1", "root", "--name", "d1", "--days", "30");

        assertThat(run.exitCode()).as(run.err()).isZero();
        X509Certificate device = cert("d1.pem");
        assertThat(Certificates.readCertificates(file("d1-full-chain.pem"))).containsExactly(device);
        assertThat(device.getIssuerX500Principal().getName()).isEqualTo("CN=Contoso Root");
        validate(List.of(device), cert("root.pem"));
    }

    @Test
    void intermediate_pathLength_isWrittenAndHonoured() throws Exception {
        rootCa("root", "--path-length", "1");
        intermediate("inter", "root");
        X509Certificate inter = cert("inter.pem");
        assertThat(inter.getBasicConstraints()).as("inherited from the root's limit").isZero();

        Run refused = opendps("cert", "intermediate", "--name", "sub", "--ca", file("inter.pem").toString(),
                "--ca-key", file("inter.key.pem").toString(), "--ca-chain", file("root.pem").toString(),
                "--out-dir", dir());
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("allow no further intermediate CA");
        assertThat(file("sub.pem")).doesNotExist();

        KeyPair subKeys = Certificates.newEcKeyPair();
        X509Certificate sub = Certificates.template("CN=sub", subKeys.getPublic())
                .issuedBy(inter, PrivateKeyPem.read(file("inter.key.pem"), null)).ca()
                .validity(Instant.now().minusSeconds(60), Duration.ofDays(1)).issue();
        KeyPair leafKeys = Certificates.newEcKeyPair();
        X509Certificate leaf = Certificates.template("CN=leaf", leafKeys.getPublic())
                .issuedBy(sub, subKeys.getPrivate()).validity(Instant.now().minusSeconds(60), Duration.ofDays(1))
                .issue();
        assertThatThrownBy(() -> validate(List.of(leaf, sub, inter), cert("root.pem")))
                .isInstanceOf(CertPathValidatorException.class);
    }

    @Test
    void intermediate_explicitPathLengthAboveTheIssuersLimit_isRefused() {
        rootCa("root", "--path-length", "1");

        Run run = opendps("cert", "intermediate", "--name", "inter", "--ca", file("root.pem").toString(),
                "--ca-key", file("root.key.pem").toString(), "--path-length", "1", "--out-dir", dir());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("allow --path-length 0 at most");
    }

    @Test
    void intermediate_pathLengthZero_stillIssuesDevices() throws Exception {
        rootCa("root");
        intermediate("inter", "root", "--path-length", "0");
        assertThat(cert("inter.pem").getBasicConstraints()).isZero();

        assertThat(device("dev", "inter").exitCode()).isZero();
        validate(Certificates.readCertificates(file("dev-full-chain.pem")), cert("root.pem"));
    }

    @Test
    void twoIntermediates_chainFileOfTheUpperOne_givesTheWholeChain() throws Exception {
        rootCa("root");
        intermediate("int1", "root");
        intermediate("int2", "int1", "--ca-chain", file("int1-full-chain.pem").toString());
        Run run = deviceWithFiles("dev", "int2-full-chain.pem", "int2.key.pem");

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<X509Certificate> fullChain = Certificates.readCertificates(file("dev-full-chain.pem"));
        assertThat(fullChain).containsExactly(cert("dev.pem"), cert("int2.pem"), cert("int1.pem"));
        validate(fullChain, cert("root.pem"));
    }

    @Test
    void verification_cnIsTheCode_signedByTheCa() throws Exception {
        rootCa("root");
        String code = "3D7BEE8EBDF5D6A8D9E6F6B0CA0B74C3BDB65F69C7B2D3A4";

        Run run = ok("cert", "verification", "--code", code, "--ca", file("root.pem").toString(),
                "--ca-key", file("root.key.pem").toString(), "--out-dir", dir());

        X509Certificate verification = cert("verification-" + code + ".pem");
        assertThat(verification.getSubjectX500Principal().getName()).isEqualTo("CN=" + code);
        verification.verify(cert("root.pem").getPublicKey());
        assertThat(verification.getBasicConstraints()).isEqualTo(-1);
        assertThat(verification.getNotAfter().toInstant())
                .isBefore(Instant.now().plus(Duration.ofDays(1).plusMinutes(1)));
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("root.pem", "root.key.pem", "verification-" + code + ".pem");
        }
        assertThat(run.out()).contains("CN=" + code);
    }

    @Test
    void rsa_rootAndDevice_validate() throws Exception {
        rootCa("root", "--rsa");
        Run run = device("dev", "root", "--rsa", "3072");

        assertThat(run.exitCode()).as(run.err()).isZero();
        X509Certificate root = cert("root.pem");
        X509Certificate device = cert("dev.pem");
        assertThat(PrivateKeyPem.read(file("root.key.pem"), null)).isInstanceOfSatisfying(RSAPrivateKey.class,
                k -> assertThat(k.getModulus().bitLength()).isEqualTo(2048));
        assertThat(PrivateKeyPem.read(file("dev.key.pem"), null)).isInstanceOfSatisfying(RSAPrivateKey.class,
                k -> assertThat(k.getModulus().bitLength()).isEqualTo(3072));
        assertThat(device.getSigAlgName()).isEqualTo("SHA256withRSA");
        validate(List.of(device), root);
        assertThat(run.out()).contains("RSA 3072");
    }

    @Test
    void rsa_tooFewBits_isRejected() {
        Run run = opendps("cert", "root-ca", "--name", "root", "--rsa", "1024", "--out-dir", dir());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("--rsa: BITS must be 2048");
    }

    @Test
    void passphrase_encryptedKey_roundTrips_andIsRequiredToIssue() throws Exception {
        rootCa("root", "--passphrase", "s3cret!");
        String pem = Files.readString(file("root.key.pem"));
        assertThat(pem).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        PrivateKey key = PrivateKeyPem.read(file("root.key.pem"), "s3cret!".toCharArray());
        assertThat(Certificates.keyMatches(key, cert("root.pem"))).isTrue();
        assertThatThrownBy(() -> PrivateKeyPem.read(file("root.key.pem"), "wrong".toCharArray()))
                .isInstanceOf(TlsMaterialException.class).hasMessageContaining("wrong passphrase");
        assertThatThrownBy(() -> PrivateKeyPem.read(file("root.key.pem"), null))
                .isInstanceOf(TlsMaterialException.class).hasMessageContaining("no passphrase was given");

        Run missing = device("dev", "root");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("root.key.pem: the private key is encrypted; give its passphrase with "
                + "--ca-passphrase").doesNotContain("Exception");

        Run wrong = device("dev", "root", "--ca-passphrase", "nope");
        assertThat(wrong.exitCode()).isEqualTo(1);
        assertThat(wrong.err()).contains("root.key.pem: the private key cannot be decrypted; wrong passphrase?");
        assertThat(file("dev.pem")).doesNotExist();

        assertThat(device("dev", "root", "--ca-passphrase", "s3cret!", "--passphrase", "device-pw").exitCode())
                .isZero();
        assertThat(PrivateKeyPem.read(file("dev.key.pem"), "device-pw".toCharArray())).isNotNull();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void caKey_traditionalPem_isAccepted(boolean encrypted) throws Exception {
        KeyPair keys = Certificates.newRsaKeyPair(2048);
        X509Certificate ca = Certificates.template("CN=openssl root", keys.getPublic()).selfSigned(keys.getPrivate())
                .ca().validity(Instant.now().minusSeconds(60), Duration.ofDays(10)).issue();
        Files.writeString(file("legacy.pem"), Certificates.toPem(ca));
        StringWriter keyPem = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(keyPem)) {
            if (encrypted) {
                writer.writeObject(keys.getPrivate(), new JcePEMEncryptorBuilder("AES-256-CBC")
                        .setProvider(new BouncyCastleProvider()).build("pw".toCharArray()));
            } else {
                writer.writeObject(keys.getPrivate());
            }
        }
        assertThat(keyPem.toString()).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        Files.writeString(file("legacy.key.pem"), keyPem.toString(), StandardCharsets.US_ASCII);

        Run run = encrypted ? device("dev", "legacy", "--ca-passphrase", "pw") : device("dev", "legacy");

        assertThat(run.exitCode()).as(run.err()).isZero();
        X509Certificate device = cert("dev.pem");
        assertThat(device.getSigAlgName()).isEqualTo("SHA256withRSA");
        validate(List.of(device), ca);
        assertThat(run.out()).contains("note: validity shortened to the issuing CA's expiry");
        assertThat(device.getNotAfter()).isEqualTo(ca.getNotAfter());
    }

    @Test
    void caKey_ofAnotherCa_isRejected() {
        rootCa("root");
        rootCa("other");

        Run run = deviceWithFiles("dev", "root.pem", "other.key.pem");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("other.key.pem: the private key does not match the CA certificate");
    }

    @Test
    void ca_thatIsADeviceCertificate_isRejected() {
        rootCa("root");
        assertThat(device("dev", "root").exitCode()).isZero();

        Run run = device("dev2", "dev");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("dev.pem: not a CA certificate");
    }

    @Test
    void caChain_withAnUnrelatedCertificate_isRejected() {
        rootCa("root");
        rootCa("other");
        intermediate("inter", "root");

        Run run = device("dev", "inter", "--ca-chain", file("other.pem").toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("not on the path from CN=inter to its root [subject: CN=other]");
    }

    @Test
    void existingFiles_areNotOverwritten_withoutForce() throws Exception {
        rootCa("root");
        String before = Files.readString(file("root.pem"));

        Run again = opendps("cert", "root-ca", "--name", "root", "--out-dir", dir());

        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.err()).contains("root.pem exists; use --force to overwrite it");
        assertThat(Files.readString(file("root.pem"))).isEqualTo(before);

        rootCa("root", "--force");
        assertThat(Files.readString(file("root.pem"))).isNotEqualTo(before);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file("root.key.pem"))))
                .isEqualTo("rw-------");
    }

    @Test
    void device_existingChainFile_refusesBeforeWritingAnything() throws Exception {
        rootCa("root");
        Files.writeString(file("dev-full-chain.pem"), "keep");

        Run run = device("dev", "root");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(file("dev.pem")).doesNotExist();
        assertThat(file("dev.key.pem")).doesNotExist();
    }

    @ParameterizedTest
    @ValueSource(strings = {"bad/cn", "-starts-with-dash", "ends-with-dot.", "has space", "ümlaut",
        "a234567890123456789012345678901234567890123456789012345678901234x"})
    void device_badCn_isRejected(String cn) {
        rootCa("root");

        Run run = device(cn, "root");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("invalid registration id for a device CN");
        assertThat(file("root.pem").getParent()).isDirectoryNotContaining("glob:**-full-chain.pem");
    }

    @Test
    void device_cnOf64Characters_isAccepted() {
        rootCa("root");
        String cn = "a".repeat(63) + "-";

        assertThat(device(cn, "root").exitCode()).isZero();
        assertThat(cert(cn + ".pem").getSubjectX500Principal().getName()).isEqualTo("CN=" + cn);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cert", "cert root-ca", "cert intermediate", "cert device", "cert verification"})
    void help_everySubcommand_documentsEveryOption(String command) {
        Run run = opendps((command + " --help").split(" "));

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).startsWith("Usage: opendps " + command);
        CommandSpec spec = OpenDpsMain.commandLine().getCommandSpec();
        for (String name : command.split(" ")) {
            spec = spec.subcommands().get(name).getCommandSpec();
        }
        for (OptionSpec option : spec.options()) {
            assertThat(option.description()).as(option.longestName()).isNotEmpty();
            assertThat(run.out()).contains(option.longestName());
        }
    }

    @Test
    void cert_withoutSubcommand_isAUsageError() {
        Run run = opendps("cert");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Missing required subcommand");
    }
}
