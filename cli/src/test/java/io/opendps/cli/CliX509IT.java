package io.opendps.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.core.json.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The X.509 quickstart as the README tells it, against one real server (ephemeral ports, CA auto-verification off,
 * the default): {@code opendps cert ...} makes the certificates, {@code opendps enrollment|group|ca ...} registers
 * them through the HTTPS service API, {@code opendps device provision --cert ...} registers over MQTT/TLS with the
 * device certificate. Commands run in-process through {@link OpenDpsMain#commandLine()}. Every test uses its own
 * CA, ids and certificate directory, so the tests are independent of each other. {@link AutoVerifyCa} starts a
 * second server with CA auto-verification on.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class CliX509IT {

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;

    /** This test's certificate files. */
    @TempDir
    Path certs;

    record Run(int exitCode, String out, String err) {
        JsonNode json() throws Exception {
            return Json.mapper().readTree(out);
        }

        String all() {
            return out + err;
        }
    }

    @BeforeAll
    static void start() {
        server = OpenDpsServer.start(ServerOptions.forTests(dataDir).withAutoVerifyCa(false));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    // ---------------------------------------------------------------- individual enrollment

    @Test
    void individualEnrollment_quickstart_deviceProvisionsWithItsCertificate() throws Exception {
        rootCa("ind-root");
        device("x509-ind-01", "ind-root");

        Run created = ok(admin("enrollment", "create", "--registration-id", "x509-ind-01", "--certificate",
                pem("x509-ind-01")));

        assertThat(created.out()).contains("type: x509").contains("clientCertificates:")
                .contains("subjectName: CN=x509-ind-01").contains("issuerName: CN=ind-root")
                .contains("sha1Thumbprint: ").contains("sha256Thumbprint: ").contains("notBeforeUtc: ")
                .contains("notAfterUtc: ").contains("serialNumber: ").contains("version: 3")
                .doesNotContain("BEGIN CERTIFICATE");
        assertThat(created.out().lines()).noneMatch(l -> l.strip().startsWith("certificate:"));

        JsonNode primary = ok(admin("enrollment", "show", "x509-ind-01", "--json")).json()
                .path("attestation").path("x509").path("clientCertificates").path("primary");
        assertThat(primary.has("certificate")).as(primary.toString()).isFalse();
        assertThat(primary.path("info").properties()).extracting(java.util.Map.Entry::getKey)
                .containsExactlyInAnyOrder("subjectName", "sha1Thumbprint", "sha256Thumbprint", "issuerName",
                        "notBeforeUtc", "notAfterUtc", "serialNumber", "version");

        Run device = provision("x509-ind-01");

        assertThat(device.exitCode()).as(device.all()).isZero();
        assertThat(device.out()).contains("Registration status: assigned").contains("IoT Hub: hub-1.opendps.local")
                .contains("Device ID: x509-ind-01");
        assertThat(server.registrations().find("x509-ind-01").orElseThrow().enrollmentGroupId()).isNull();
    }

    @Test
    void individualEnrollment_certificateCnNotTheRegistrationId_isAClearError() {
        rootCa("cn-root");
        device("x509-cn-dev", "cn-root");

        Run run = opendps(admin("enrollment", "create", "--registration-id", "x509-cn-other", "--certificate",
                pem("x509-cn-dev")));

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("CN 'x509-cn-dev'").contains("x509-cn-other");
    }

    // ---------------------------------------------------------------- groups with inline signing certificates

    @Test
    void group_withIntermediateCaCertificate_deviceUnderTheIntermediateProvisions() throws Exception {
        rootCa("int-root");
        ok("cert", "intermediate", "--name", "int-ca", "--ca", pem("int-root"), "--ca-key", key("int-root"),
                "--out-dir", certs.toString());
        ok("cert", "device", "--cn", "x509-int-dev", "--ca", pem("int-ca"), "--ca-key", key("int-ca"), "--ca-chain",
                certs.resolve("int-ca-full-chain.pem").toString(), "--out-dir", certs.toString());

        Run group = ok(admin("group", "create", "--group-id", "x509-int-group", "--ca-certificate", pem("int-ca")));
        assertThat(group.out()).contains("signingCertificates:").contains("subjectName: CN=int-ca")
                .contains("issuerName: CN=int-root").doesNotContain("BEGIN CERTIFICATE");

        Run device = provision("x509-int-dev");

        assertThat(device.exitCode()).as(device.all()).isZero();
        assertThat(device.out()).contains("Registration status: assigned").contains("Device ID: x509-int-dev");
        assertThat(server.registrations().find("x509-int-dev").orElseThrow().enrollmentGroupId())
                .isEqualTo("x509-int-group");
    }

    @Test
    void group_disabledIndividualEnrollment_revokesOneDeviceWhileItsSiblingProvisions() {
        rootCa("rev-root");
        device("x509-rev-bad", "rev-root");
        device("x509-rev-good", "rev-root");
        ok(admin("group", "create", "--group-id", "x509-rev-group", "--ca-certificate", pem("rev-root")));
        Run revoked = ok(admin("enrollment", "create", "--registration-id", "x509-rev-bad", "--certificate",
                pem("x509-rev-bad"), "--disabled"));
        assertThat(revoked.out()).contains("provisioningStatus: disabled");

        Run bad = provision("x509-rev-bad");
        Run good = provision("x509-rev-good");

        assertThat(bad.exitCode()).as(bad.all()).isEqualTo(1);
        assertThat(bad.all()).contains("Registration disabled");
        assertThat(server.registrations().find("x509-rev-bad").orElseThrow()).satisfies(record -> {
            assertThat(record.assignedHub()).isNull();
            assertThat(record.errorCode()).isEqualTo(401002);
        });
        assertThat(good.exitCode()).as(good.all()).isZero();
        assertThat(good.out()).contains("Registration status: assigned");
        assertThat(server.registrations().find("x509-rev-good").orElseThrow().enrollmentGroupId())
                .isEqualTo("x509-rev-group");
    }

    @Test
    void group_deviceOfAnotherCa_isNotProvisioned() {
        rootCa("known-root");
        rootCa("stranger-root");
        ok(admin("group", "create", "--group-id", "x509-known-group", "--ca-certificate", pem("known-root")));
        device("x509-stranger", "stranger-root");

        Run run = provision("x509-stranger");

        assertThat(run.exitCode()).as(run.all()).isEqualTo(1);
        assertThat(server.registrations().find("x509-stranger")).isEmpty();
    }

    // ---------------------------------------------------------------- CA certificates and proof of possession

    @Test
    void caReference_proofOfPossession_thenGroupAndDevice_thenDeleteRules() throws Exception {
        rootCa("pop-root");
        device("x509-pop-dev", "pop-root");

        Run uploaded = ok(admin("ca", "upload", "pop-ca", pem("pop-root")));
        assertThat(uploaded.out()).contains("name: pop-ca").contains("subject: CN=pop-root")
                .contains("verified: false");

        Run unverified = opendps(admin("group", "create", "--group-id", "x509-pop-group", "--ca-reference",
                "pop-ca"));
        assertThat(unverified.exitCode()).isEqualTo(1);
        assertThat(unverified.err()).contains("'pop-ca' is not verified").contains("proof of possession");

        String code = verificationCode("pop-ca");
        ok("cert", "verification", "--code", code, "--ca", pem("pop-root"), "--ca-key", key("pop-root"),
                "--out-dir", certs.toString());
        Run verified = ok(admin("ca", "verify", "pop-ca", certs.resolve("verification-" + code + ".pem").toString()));
        assertThat(verified.out()).contains("verified: true");

        Run group = ok(admin("group", "create", "--group-id", "x509-pop-group", "--ca-reference", "pop-ca"));
        assertThat(group.out()).contains("caReferences:").contains("primary: pop-ca");

        Run device = provision("x509-pop-dev");
        assertThat(device.exitCode()).as(device.all()).isZero();
        assertThat(device.out()).contains("Registration status: assigned");
        assertThat(server.registrations().find("x509-pop-dev").orElseThrow().enrollmentGroupId())
                .isEqualTo("x509-pop-group");

        Run list = ok(admin("ca", "list"));
        assertThat(list.out()).contains("name").contains("verified").contains("thumbprint");
        assertThat(list.out().lines()).anyMatch(l -> l.startsWith("pop-ca ") && l.contains(" yes ")
                && l.endsWith("CN=pop-root"));
        JsonNode listJson = ok(admin("ca", "list", "--json")).json();
        assertThat(listJson.path("value").findValuesAsText("name")).contains("pop-ca");

        Run show = ok(admin("ca", "show", "pop-ca"));
        assertThat(show.out()).contains("name: pop-ca").contains("subject: CN=pop-root").contains("verified: true")
                .containsPattern("thumbprint: [0-9A-F]{40}").containsPattern("expiry: \\w{3}, ")
                .containsPattern("etag: \\S+");

        Run inUse = opendps(admin("ca", "delete", "pop-ca"));
        assertThat(inUse.exitCode()).isEqualTo(1);
        assertThat(inUse.err()).contains("'pop-ca' is referenced").contains("x509-pop-group");
        assertThat(ok(admin("ca", "show", "pop-ca")).out()).contains("verified: true");

        ok(admin("group", "delete", "x509-pop-group"));
        assertThat(ok(admin("ca", "delete", "pop-ca")).out()).contains("Deleted CA certificate pop-ca");
        Run gone = opendps(admin("ca", "show", "pop-ca"));
        assertThat(gone.exitCode()).isEqualTo(1);
        assertThat(gone.err()).contains("'pop-ca' not found");
    }

    @Test
    void caVerify_certificateSignedByAnotherKey_orWithAWrongCode_isAClearError_andTheCodeStaysUsable() {
        rootCa("wrong-root");
        rootCa("wrong-other");
        ok(admin("ca", "upload", "wrong-ca", pem("wrong-root")));
        String code = verificationCode("wrong-ca");

        ok("cert", "verification", "--code", code, "--ca", pem("wrong-other"), "--ca-key", key("wrong-other"),
                "--name", "other-signer", "--out-dir", certs.toString());
        Run otherSigner = opendps(admin("ca", "verify", "wrong-ca", pem("other-signer")));
        assertThat(otherSigner.exitCode()).isEqualTo(1);
        assertThat(otherSigner.err()).contains("proof of possession failed for CA certificate 'wrong-ca'")
                .contains("not signed by the private key of this CA certificate");

        ok("cert", "verification", "--code", "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", "--ca",
                pem("wrong-root"), "--ca-key", key("wrong-root"), "--name", "wrong-code", "--out-dir",
                certs.toString());
        Run wrongCode = opendps(admin("ca", "verify", "wrong-ca", pem("wrong-code")));
        assertThat(wrongCode.exitCode()).isEqualTo(1);
        assertThat(wrongCode.err()).contains("is not the current verification code");
        assertThat(ok(admin("ca", "show", "wrong-ca")).out()).contains("verified: false");

        ok("cert", "verification", "--code", code, "--ca", pem("wrong-root"), "--ca-key", key("wrong-root"),
                "--name", "right", "--out-dir", certs.toString());
        assertThat(ok(admin("ca", "verify", "wrong-ca", pem("right"))).out()).contains("verified: true");

        Run reused = opendps(admin("ca", "verify", "wrong-ca", pem("right")));
        assertThat(reused.exitCode()).isEqualTo(1);
        assertThat(reused.err()).contains("no verification code is pending");
    }

    @Test
    void caUpload_verifiedWithoutAutoVerify_isRefusedAskingForProofOfPossession() {
        rootCa("auto-root");

        Run run = opendps(admin("ca", "upload", "auto-ca", pem("auto-root"), "--verified"));

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("needs proof of possession");
        assertThat(opendps(admin("ca", "show", "auto-ca")).exitCode()).isEqualTo(1);
    }

    @Test
    void caUpload_existingName_needsIfMatch_whichReplacesIt() {
        rootCa("rep-root-a");
        rootCa("rep-root-b");
        ok(admin("ca", "upload", "rep-ca", pem("rep-root-a")));

        Run again = opendps(admin("ca", "upload", "rep-ca", pem("rep-root-b")));
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.err()).contains("'rep-ca' already exists").contains("If-Match");

        Run stale = opendps(admin("ca", "upload", "rep-ca", pem("rep-root-b"), "--if-match", "\"stale\""));
        assertThat(stale.exitCode()).isEqualTo(1);
        assertThat(stale.err()).contains("does not match the current etag");

        String etag = ok(admin("ca", "show", "rep-ca")).out().lines().filter(l -> l.startsWith("etag: "))
                .findFirst().orElseThrow().substring("etag: ".length());
        Run replaced = ok(admin("ca", "upload", "rep-ca", pem("rep-root-b"), "--if-match", etag));
        assertThat(replaced.out()).contains("subject: CN=rep-root-b").contains("verified: false");

        Run any = ok(admin("ca", "upload", "rep-ca", pem("rep-root-a"), "--if-match", "*"));
        assertThat(any.out()).contains("subject: CN=rep-root-a");
    }

    @Test
    void caUpload_deviceCertificate_isRefusedAsNotACa() {
        rootCa("leaf-root");
        device("x509-leaf", "leaf-root");

        Run run = opendps(admin("ca", "upload", "leaf-ca", pem("x509-leaf")));

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("is not a CA certificate");
    }

    @Test
    void caCommands_unknownName_areClearErrors() {
        for (String[] cmd : List.of(new String[] {"ca", "show", "no-such-ca"},
                new String[] {"ca", "verification-code", "no-such-ca"}, new String[] {"ca", "delete", "no-such-ca"})) {
            Run run = opendps(admin(cmd));
            assertThat(run.exitCode()).as(String.join(" ", cmd)).isEqualTo(1);
            assertThat(run.err()).as(String.join(" ", cmd)).contains("'no-such-ca' not found");
        }
        Run group = opendps(admin("group", "create", "--group-id", "x509-missing-ref", "--ca-reference",
                "no-such-ca"));
        assertThat(group.exitCode()).isEqualTo(1);
        assertThat(group.err()).contains("no CA certificate named 'no-such-ca'");
    }

    /** A second server, started as {@code serve --auto-verify-ca} starts it (cheap: the JVM is warm). */
    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class AutoVerifyCa {

        Path autoDataDir;
        OpenDpsServer auto;

        @BeforeAll
        void startAutoVerifying(@TempDir Path dir) {
            autoDataDir = dir;
            auto = OpenDpsServer.start(ServerOptions.forTests(dir).withAutoVerifyCa(true));
        }

        @AfterAll
        void stopAutoVerifying() {
            if (auto != null) {
                auto.close();
            }
        }

        @Test
        void caUploadVerified_isVerifiedWithoutProof_groupReferencesIt_deviceProvisions() {
            rootCa("av-root");
            device("x509-av-dev", "av-root");

            Run uploaded = ok("ca", "upload", "av-ca", pem("av-root"), "--verified", "--data-dir",
                    autoDataDir.toString());
            assertThat(uploaded.out()).contains("verified: true");
            ok("group", "create", "--group-id", "x509-av-group", "--ca-reference", "av-ca", "--data-dir",
                    autoDataDir.toString());

            Run device = opendps("device", "provision", "--cert", certs.resolve("x509-av-dev-full-chain.pem")
                    .toString(), "--key", key("x509-av-dev"), "--data-dir", autoDataDir.toString(), "--timeout", "30");

            assertThat(device.exitCode()).as(device.all()).isZero();
            assertThat(device.out()).contains("Registration status: assigned");
            assertThat(auto.registrations().find("x509-av-dev").orElseThrow().enrollmentGroupId())
                    .isEqualTo("x509-av-group");
        }
    }

    // ---------------------------------------------------------------- option errors

    @Test
    void enrollmentCreate_certificateWithSymmetricKey_isAClearError() {
        rootCa("opt-root");
        device("x509-opt-dev", "opt-root");

        Run run = opendps(admin("enrollment", "create", "--registration-id", "x509-opt-dev", "--certificate",
                pem("x509-opt-dev"), "--symmetric-key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("--certificate and --symmetric-key").contains("mutually exclusive");
        assertThat(opendps(admin("enrollment", "show", "x509-opt-dev")).exitCode()).isEqualTo(1);
    }

    @Test
    void groupCreate_caCertificateAndCaReference_isAClearError() {
        rootCa("both-root");

        Run run = opendps(admin("group", "create", "--group-id", "x509-both", "--ca-certificate", pem("both-root"),
                "--ca-reference", "some-ca"));

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("use one of --ca-certificate, --ca-reference");
        assertThat(opendps(admin("group", "show", "x509-both")).exitCode()).isEqualTo(1);
    }

    @Test
    void certificateFile_missingOrUnreadableOrNotACertificate_isAClearError() throws Exception {
        Path missing = certs.resolve("missing.pem");
        Path garbage = certs.resolve("garbage.pem");
        Files.writeString(garbage, "this is not a certificate\n", StandardCharsets.US_ASCII);

        Run enrollment = opendps(admin("enrollment", "create", "--registration-id", "x509-missing", "--certificate",
                missing.toString()));
        Run group = opendps(admin("group", "create", "--group-id", "x509-missing", "--ca-certificate",
                missing.toString()));
        Run upload = opendps(admin("ca", "upload", "missing-ca", missing.toString()));
        Run notACertificate = opendps(admin("enrollment", "create", "--registration-id", "x509-garbage",
                "--certificate", garbage.toString()));

        for (Run run : List.of(enrollment, group, upload)) {
            assertThat(run.exitCode()).as(run.all()).isEqualTo(1);
            assertThat(run.err()).startsWith("opendps: cannot read certificate file " + missing);
            assertThat(run.err().lines()).hasSize(1);
        }
        assertThat(notACertificate.exitCode()).as(notACertificate.all()).isEqualTo(1);
        assertThat(notACertificate.err()).contains("clientCertificates.primary.certificate is not a readable "
                + "certificate");
    }

    // ---------------------------------------------------------------- helpers

    static Run opendps(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = OpenDpsMain.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    static Run ok(String... args) {
        Run run = opendps(args);
        assertThat(run.exitCode()).as("%s%nstdout: %s%nstderr: %s", String.join(" ", args), run.out(), run.err())
                .isZero();
        return run;
    }

    static String[] admin(String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.add("--data-dir");
        all.add(dataDir.toString());
        return all.toArray(String[]::new);
    }

    private String pem(String stem) {
        return certs.resolve(stem + ".pem").toString();
    }

    private String key(String stem) {
        return certs.resolve(stem + ".key.pem").toString();
    }

    private void rootCa(String name) {
        ok("cert", "root-ca", "--name", name, "--out-dir", certs.toString());
    }

    private void device(String cn, String ca) {
        ok("cert", "device", "--cn", cn, "--ca", pem(ca), "--ca-key", key(ca), "--out-dir", certs.toString());
    }

    private Run provision(String stem) {
        return opendps("device", "provision", "--cert", certs.resolve(stem + "-full-chain.pem").toString(), "--key",
                key(stem), "--data-dir", dataDir.toString(), "--timeout", "30");
    }

    /** {@code ca verification-code NAME}: the code is the first line. */
    private static String verificationCode(String name) {
        Run run = ok(admin("ca", "verification-code", name));
        String code = run.out().lines().findFirst().orElseThrow();
        assertThat(code).matches("[0-9A-F]{48}");
        assertThat(run.out()).contains("cert verification --code " + code)
                .contains("ca verify " + name + " verification-" + code + ".pem");
        return code;
    }
}
