package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.opendps.sim.FakeDpsBroker.ClientAuth;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code device provision} with X.509 attestation: option and environment resolution, errors, the full run. */
class ProvisionCommandX509Test {

    private static final TestPki PKI = TestPki.create("command x509 CA");
    private static final TestPki.Device DEVICE = PKI.device("CN=x509-cmd-1, O=OpenDPS", "EC");

    @TempDir
    Path dir;

    private final Map<String, String> environment = new HashMap<>();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private Path cert;
    private Path key;

    @BeforeEach
    void writeDeviceFiles() throws IOException {
        for (String name : List.of("PROVISIONING_REGISTRATION_ID", "PROVISIONING_SYMMETRIC_KEY")) {
            assumeTrue(System.getenv(name) == null, name + " is set in this environment");
        }
        cert = write("device.pem", TestPki.pem(DEVICE.leaf(), DEVICE.intermediate()));
        key = write("device.key.pem", TestPki.pkcs8(DEVICE.privateKey()));
    }

    @Test
    void resolve_certAndKey_loadTheChainAndTheCnIsTheRegistrationId() {
        ProvisionCommand.Settings settings = resolve("--id-scope", "0ne1", "--cert", cert.toString(),
                "--key", key.toString());

        assertThat(settings.registrationId()).isEqualTo("x509-cmd-1");
        assertThat(settings.credential()).isInstanceOfSatisfying(X509Credential.class, x509 -> {
            assertThat(x509.chain()).containsExactly(DEVICE.leaf(), DEVICE.intermediate());
            assertThat(x509.privateKey().getEncoded()).isEqualTo(DEVICE.privateKey().getEncoded());
        });
    }

    @Test
    void resolve_quickstartEnvironmentVariables_areTheDefaults() throws IOException {
        Path encrypted = write("encrypted.key.pem", TestPki.encryptedPkcs8(DEVICE.privateKey(), "pa55"));
        environment.putAll(Map.of("X509_CERT_FILE", cert.toString(), "X509_KEY_FILE", encrypted.toString(),
                "PASS_PHRASE", "pa55"));

        ProvisionCommand.Settings settings = resolve("--id-scope", "0ne1");

        assertThat(settings.registrationId()).isEqualTo("x509-cmd-1");
        assertThat(((X509Credential) settings.credential()).leaf()).isEqualTo(DEVICE.leaf());
    }

    @Test
    void resolve_registrationIdVariable_overridesTheCnAndTheOptionOverridesBoth() {
        environment.put("DPS_X509_REGISTRATION_ID", "from-env");

        assertThat(resolve("--id-scope", "0ne1", "--cert", cert.toString(), "--key", key.toString())
                .registrationId()).isEqualTo("from-env");
        assertThat(resolve("--id-scope", "0ne1", "--cert", cert.toString(), "--key", key.toString(),
                "--registration-id", "from-option").registrationId()).isEqualTo("from-option");
    }

    @Test
    void resolve_chainFileAndTraditionalKey_appendTheIntermediates() throws IOException {
        Path leafOnly = write("leaf.pem", TestPki.pem(DEVICE.leaf()));
        Path chain = write("chain.pem", TestPki.pem(DEVICE.intermediate()));
        Path traditional = write("ec.key.pem", TestPki.traditional(DEVICE.privateKey()));

        ProvisionCommand.Settings settings = resolve("--id-scope", "0ne1", "--cert", leafOnly.toString(),
                "--key", traditional.toString(), "--chain", chain.toString());

        assertThat(((X509Credential) settings.credential()).chain())
                .containsExactly(DEVICE.leaf(), DEVICE.intermediate());
    }

    @Test
    void resolve_certificateVariableButSymmetricKeyOption_usesTheKey() {
        environment.put("X509_CERT_FILE", cert.toString());

        ProvisionCommand.Settings settings = resolve("--id-scope", "0ne1", "--registration-id", "dev-1",
                "--symmetric-key", SimulatedDeviceTest.KEY);

        assertThat(settings.credential()).isEqualTo(new SymmetricKeyCredential(SimulatedDeviceTest.KEY));
    }

    @Test
    void execute_certWithSymmetricKeyOrGroupKey_isAUsageError() {
        for (String keyOption : List.of("--symmetric-key", "--group-key")) {
            err.getBuffer().setLength(0);

            int code = execute("--id-scope", "0ne1", "--cert", cert.toString(), keyOption, SimulatedDeviceTest.KEY);

            assertThat(code).as(keyOption).isEqualTo(2);
            assertThat(err.toString()).as(keyOption).contains("--cert and --symmetric-key/--group-key are "
                    + "mutually exclusive");
        }
    }

    @Test
    void execute_keyOptionsWithoutCertificate_isAUsageError() {
        int code = execute("--id-scope", "0ne1", "--registration-id", "dev-1", "--symmetric-key",
                SimulatedDeviceTest.KEY, "--key", key.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--key needs --cert");
    }

    @Test
    void execute_missingFiles_areUsageErrorsNamingFileAndOption() {
        int noCert = execute("--id-scope", "0ne1", "--cert", dir.resolve("absent.pem").toString());
        String certError = err.toString();
        err.getBuffer().setLength(0);
        environment.put("X509_KEY_FILE", dir.resolve("absent.key").toString());
        int noKey = execute("--id-scope", "0ne1", "--cert", cert.toString());

        assertThat(noCert).isEqualTo(2);
        assertThat(certError).contains("Cannot read the certificate file").contains("absent.pem")
                .contains("--cert, X509_CERT_FILE").contains("no such file");
        assertThat(noKey).isEqualTo(2);
        assertThat(err.toString()).contains("Cannot read the private key file").contains("absent.key")
                .contains("X509_KEY_FILE");
    }

    @Test
    void execute_noKeyAnywhere_isAUsageErrorAskingForTheKey() {
        int code = execute("--id-scope", "0ne1", "--cert", cert.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("no private key").contains("--key").contains("X509_KEY_FILE");
    }

    @Test
    void execute_keyOfAnotherDevice_isAUsageErrorSayingItDoesNotMatch() throws IOException {
        Path otherKey = write("other.key.pem", TestPki.pkcs8(PKI.device("CN=other", "EC").privateKey()));

        int code = execute("--id-scope", "0ne1", "--cert", cert.toString(), "--key", otherKey.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("does not match the certificate").contains("CN=x509-cmd-1");
    }

    @Test
    void execute_encryptedKeyWithWrongOrMissingPassphrase_isAUsageErrorNamingThePassphraseOptions()
            throws IOException {
        Path encrypted = write("encrypted.key.pem", TestPki.encryptedPkcs8(DEVICE.privateKey(), "pa55"));

        int missing = execute("--id-scope", "0ne1", "--cert", cert.toString(), "--key", encrypted.toString());
        String missingError = err.toString();
        err.getBuffer().setLength(0);
        int wrong = execute("--id-scope", "0ne1", "--cert", cert.toString(), "--key", encrypted.toString(),
                "--passphrase", "nope");

        assertThat(missing).isEqualTo(2);
        assertThat(missingError).contains("is encrypted").contains("pass --passphrase or set PASS_PHRASE");
        assertThat(wrong).isEqualTo(2);
        assertThat(err.toString()).contains("wrong passphrase").contains("check --passphrase or PASS_PHRASE");
    }

    @Test
    void execute_certificateWithoutCn_isAUsageErrorAskingForTheId() throws IOException {
        TestPki.Device anonymous = PKI.device("O=OpenDPS, OU=no cn", "RSA");
        Path anonymousCert = write("anon.pem", TestPki.pem(anonymous.leaf()));
        Path anonymousKey = write("anon.key.pem", TestPki.traditional(anonymous.privateKey()));

        int code = execute("--id-scope", "0ne1", "--cert", anonymousCert.toString(), "--key",
                anonymousKey.toString());

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("has no CN").contains("--registration-id")
                .contains("DPS_X509_REGISTRATION_ID");
    }

    @Test
    @Timeout(30)
    void execute_againstFakeDpsRequiringCertificates_printsTheThumbprintAndIsAssigned() throws Exception {
        Path caPem = PKI.writeCaPem(dir.resolve("ca.pem"));
        try (FakeDpsBroker broker = FakeDpsBroker.start(PKI.serverContextTrustingDevices(), ClientAuth.NEED)) {
            broker.responder = request -> SimulatedDeviceTest.assigningDps().answer(request).stream()
                    .map(a -> new FakeDpsBroker.Answer(a.topic(), a.body().replace("dev-1", "x509-cmd-1")))
                    .toList();

            int code = execute("--id-scope", "0ne1", "--port", Integer.toString(broker.port()), "--ca",
                    caPem.toString(), "--cert", cert.toString(), "--key", key.toString(), "--data-dir",
                    dir.toString());

            assertThat(code).as(err.toString()).isZero();
            assertThat(out.toString().lines()).startsWith(
                    "Provisioning device x509-cmd-1 with certificate " + DEVICE.credential().thumbprint()
                            + " (SHA-256) at localhost:" + broker.port() + " (ID scope 0ne1)",
                    "Waiting for the provisioning service to register the device...",
                    "Registration status: assigned",
                    "IoT Hub: hub-1.opendps.local",
                    "Device ID: x509-cmd-1");
            assertThat(err.toString()).isEmpty();
            assertThat(broker.clientChains).singleElement().isEqualTo(List.of(DEVICE.leaf(), DEVICE.intermediate()));
            assertThat(broker.connects).singleElement().satisfies(connect -> assertThat(connect.password()).isNull());
        }
    }

    @Test
    @Timeout(30)
    void execute_registrationIdOtherThanCn_warnsOnErrorOutput() throws Exception {
        Path caPem = PKI.writeCaPem(dir.resolve("ca.pem"));
        try (FakeDpsBroker broker = FakeDpsBroker.start(PKI.serverContextTrustingDevices(), ClientAuth.NEED)) {
            broker.responder = request -> List.of(
                    SimulatedDeviceTest.answer(401, request, "", ResponseReactionTest.UNAUTHORIZED));

            int code = execute("--id-scope", "0ne1", "--port", Integer.toString(broker.port()), "--ca",
                    caPem.toString(), "--cert", cert.toString(), "--key", key.toString(), "--registration-id",
                    "not-the-cn", "--data-dir", dir.toString());

            assertThat(code).isEqualTo(1);
            assertThat(err.toString()).contains("Warning: registration id not-the-cn is not the certificate's "
                    + "subject CN (x509-cmd-1)");
            assertThat(broker.connects).singleElement()
                    .satisfies(connect -> assertThat(connect.clientId()).isEqualTo("not-the-cn"));
        }
    }

    private ProvisionCommand.Settings resolve(String... args) {
        ProvisionCommand command = new ProvisionCommand(environment);
        new CommandLine(command).parseArgs(args);
        return command.resolve();
    }

    private int execute(String... args) {
        CommandLine command = new CommandLine(new ProvisionCommand(environment));
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        return command.execute(args);
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }
}
