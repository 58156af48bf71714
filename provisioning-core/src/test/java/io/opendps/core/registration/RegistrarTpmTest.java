package io.opendps.core.registration;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.enrollment.EnrollmentService;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.hub.DeviceIdentity;
import io.opendps.core.json.Json;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.store.jdbc.JdbcHubStore;
import io.opendps.core.store.jdbc.JdbcRegistrationStore;
import io.opendps.core.store.jdbc.JdbcTpmKeyStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestDatabase;
import io.opendps.core.tpm.SoftTpm;
import io.opendps.core.tpm.TpmAttestor;
import io.opendps.core.tpm.TpmCrypto;
import io.opendps.core.x509.X509ChainValidator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * TPM attestation through the registrar (§7.3): challenge, SAS signed with the issued key, final authenticationKey
 * and hub key; the TPM side is {@link SoftTpm} (software keys, the device-side algorithms written independently).
 * Real stores on H2. The same flow against a real software TPM is {@code TpmProvisioningIT}.
 */
class RegistrarTpmTest {

    private static final String SCOPE = "0ne00000001";
    private static final String API = "2021-06-01";
    private static final String HUB = "hub-a.azure-devices.net";
    private static SoftTpm device;
    private static SoftTpm otherTpm;

    private final MutableClock clock = new MutableClock(Instant.parse("2024-05-01T10:00:00Z"));
    private final ListAppender<ILoggingEvent> audit = new ListAppender<>();
    private final Logger auditLogger = (Logger) LoggerFactory.getLogger("io.opendps.audit");
    private Level auditLevel;
    private TestDatabase database;
    private JdbcRegistrationStore registrations;
    private EnrollmentService enrollments;
    private BuiltInHub hub;
    private String registrationId;

    @BeforeAll
    static void tpms() throws Exception {
        device = new SoftTpm();
        otherTpm = new SoftTpm();
    }

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        registrations = new JdbcRegistrationStore(database.db());
        JdbcEnrollmentStore enrollmentStore = new JdbcEnrollmentStore(database.db());
        Allocator allocator = new Allocator(List.of(LinkedHub.of(HUB)));
        CaCertificateService cas = new CaCertificateService(new JdbcCaCertificateStore(database.db()),
                enrollmentStore, CaCertificateOptions.DEFAULTS, clock);
        enrollments = new EnrollmentService(enrollmentStore, registrations, allocator, cas, clock);
        hub = new BuiltInHub(List.of(HUB), new JdbcHubStore(database.db()), clock, 100);
        registrationId = TpmCrypto.registrationId(device.ekPublic());
        auditLevel = auditLogger.getLevel();
        auditLogger.setLevel(Level.INFO);
        audit.start();
        auditLogger.addAppender(audit);
    }

    @AfterEach
    void tearDown() {
        auditLogger.detachAppender(audit);
        auditLogger.setLevel(auditLevel);
        database.close();
    }

    /** A registrar on the shared database: a new one is another node, or the same node after a restart. */
    private Registrar node() {
        JdbcEnrollmentStore enrollmentStore = new JdbcEnrollmentStore(database.db());
        CaCertificateService cas = new CaCertificateService(new JdbcCaCertificateStore(database.db()),
                enrollmentStore, CaCertificateOptions.DEFAULTS, clock);
        return new Registrar(SCOPE, new DeviceAuthenticator(SCOPE, enrollmentStore,
                new SasVerifier(clock, Duration.ofMinutes(5)), cas, new X509ChainValidator(clock),
                new TpmAttestor(new JdbcTpmKeyStore(database.db()), clock, new SecureRandom())),
                new JdbcRegistrationStore(database.db()), new Allocator(List.of(LinkedHub.of(HUB))),
                hub.connectors(), clock);
    }

    private void enrollTpm(byte[] ek) {
        try {
            enrollments.putEnrollment(registrationId, Json.parse(("{\"attestation\":{\"type\":\"tpm\",\"tpm\":"
                    + "{\"endorsementKey\":\"" + b64(ek) + "\"}},\"deviceId\":\"tpm-device-1\"}")
                    .getBytes(StandardCharsets.UTF_8), IndividualEnrollment.class), "*");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private RegistrationReply register(Registrar registrar, @Nullable String sas, String tpmJson) {
        String body = "{\"registrationId\":\"" + registrationId + "\"" + tpmJson + "}";
        return registrar.register(new RegistrationRequest(SCOPE, registrationId, sas,
                body.getBytes(StandardCharsets.UTF_8), API));
    }

    private static String tpmBody(SoftTpm tpm) {
        return ",\"tpm\":{\"endorsementKey\":\"" + b64(tpm.ekPublic()) + "\",\"storageRootKey\":\""
                + b64(tpm.srkPublic()) + "\"}";
    }

    private String sas(byte[] key) {
        return SasSigner.deviceToken(SCOPE, registrationId, key, clock.instant().plus(Duration.ofHours(1)));
    }

    private static String b64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    private List<String> auditLines() {
        return audit.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void challengeThenSasThenAssignedWithTheFinalKeyAndTheSameKeyAtTheHub() throws Exception {
        enrollTpm(device.ekPublic());
        Registrar registrar = node();

        RegistrationReply challenge = register(registrar, null, tpmBody(device));

        assertThat(challenge.status()).isEqualTo(401);
        JsonNode body = Json.mapper().readTree(Json.toAsciiBytes(challenge.body()));
        assertThat(body.fieldNames()).toIterable().containsExactly("authenticationKey", "keyName");
        assertThat(body.get("keyName").asText()).isEqualTo("registration");
        byte[] key = device.activate(body.get("authenticationKey").asText());
        assertThat(auditLines()).anySatisfy(l -> assertThat(l).contains("tpm challenge issued",
                "registration-id: " + registrationId));

        String sas = sas(key);
        RegistrationReply accepted = register(registrar, sas, tpmBody(device));
        assertThat(accepted.status()).as("%s", accepted.error()).isEqualTo(202);
        RegistrationReply polled = registrar.operationStatus(new OperationStatusRequest(SCOPE, registrationId, sas,
                accepted.operation().operationId(), API));

        assertThat(polled.status()).isEqualTo(200);
        DeviceRegistrationState state = polled.operation().registrationState();
        assertThat(state.status()).isEqualTo(RegistrationStatus.ASSIGNED);
        assertThat(state.assignedHub()).isEqualTo(HUB);
        assertThat(state.deviceId()).isEqualTo("tpm-device-1");
        assertThat(state.symmetricKey()).isNull();
        String finalKey = state.tpm().authenticationKey();
        assertThat(finalKey).isNotEqualTo(body.get("authenticationKey").asText());
        assertThat(device.activate(finalKey)).as("the final blob carries the same key").isEqualTo(key);
        JsonNode json = Json.mapper().readTree(Json.toAsciiBytes(polled.body())).get("registrationState");
        assertThat(json.has("symmetricKey")).isFalse();
        assertThat(json.get("tpm").get("authenticationKey").asText()).isEqualTo(finalKey);
        DeviceIdentity identity = hub.find(HUB, "tpm-device-1").orElseThrow();
        assertThat(identity.authentication().symmetricKey().primaryKey()).isEqualTo(b64(key));
        assertThat(registrations.find(registrationId).orElseThrow().serviceView().tpm())
                .as("the service view has no device-side attestation object").isNull();
    }

    @Test
    void anotherNodeOrARestartAcceptsTheAnswer() throws Exception {
        enrollTpm(device.ekPublic());
        byte[] key = device.activate(register(node(), null, tpmBody(device)).challenge().authenticationKey());

        RegistrationReply accepted = register(node(), sas(key), "");

        assertThat(accepted.status()).as("%s", accepted.error()).isEqualTo(202);
    }

    @Test
    void anotherTpmsEndorsementKeyGetsNoChallenge() {
        enrollTpm(device.ekPublic());

        RegistrationReply reply = register(node(), null, tpmBody(otherTpm));

        assertThat(reply.status()).isEqualTo(401);
        assertThat(reply.error().errorCode()).isEqualTo(ErrorCode.UNAUTHORIZED.code());
        assertThat(reply.error().message()).isEqualTo("Unauthorized: no enrollment for registration id '"
                + registrationId + "' accepts this endorsement key");
        assertThat(auditLines()).anySatisfy(l -> assertThat(l).contains("reason: NO_MATCH",
                "endorsement key differs from the enrollment's"));
    }

    @Test
    void anotherTpmCannotAnswerAChallengeForThisEk() throws Exception {
        enrollTpm(device.ekPublic());
        RegistrationReply challenge = register(node(), null, ",\"tpm\":{\"endorsementKey\":\""
                + b64(device.ekPublic()) + "\",\"storageRootKey\":\"" + b64(otherTpm.srkPublic()) + "\"}");

        assertThat(challenge.status()).isEqualTo(401);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> otherTpm.activate(
                challenge.challenge().authenticationKey())).isNotNull();
        // Guessing is all that is left: a SAS with any other key is refused.
        byte[] guess = new byte[32];
        RegistrationReply refused = register(node(), sas(guess), "");
        assertThat(refused.status()).isEqualTo(401);
        assertThat(refused.error().message()).isEqualTo("Unauthorized: no enrollment for registration id '"
                + registrationId + "' accepts this SAS token");
        assertThat(auditLines()).anySatisfy(l -> assertThat(l).contains("reason: TPM_NOT_PROVEN",
                "is not signed with the key issued at"));
        assertThat(registrations.find(registrationId)).isEmpty();
    }

    @Test
    void aNewChallengeReplacesTheIssuedKey() throws Exception {
        enrollTpm(device.ekPublic());
        byte[] first = device.activate(register(node(), null, tpmBody(device)).challenge().authenticationKey());
        byte[] second = device.activate(register(node(), null, tpmBody(device)).challenge().authenticationKey());

        assertThat(second).isNotEqualTo(first);
        assertThat(register(node(), sas(first), "").status()).isEqualTo(401);
        assertThat(register(node(), sas(second), "").status()).isEqualTo(202);
    }

    @Test
    void aChangedEnrollmentEndorsementKeyInvalidatesTheIssuedKey() throws Exception {
        enrollTpm(device.ekPublic());
        byte[] key = device.activate(register(node(), null, tpmBody(device)).challenge().authenticationKey());
        enrollTpm(otherTpm.ekPublic());

        RegistrationReply reply = register(node(), sas(key), "");

        assertThat(reply.status()).isEqualTo(401);
        assertThat(auditLines()).anySatisfy(l -> assertThat(l).contains("reason: TPM_NOT_PROVEN",
                "no key was issued for its endorsement key"));
    }

    @Test
    void aSasTokenBeforeAnyChallengeIsRefused() {
        enrollTpm(device.ekPublic());

        assertThat(register(node(), sas(new byte[32]), "").status()).isEqualTo(401);
        assertThat(auditLines()).anySatisfy(l -> assertThat(l).contains("the device must first register without "
                + "a SAS token"));
    }

    @Test
    void malformedTpmObjectsAre400WithTheProblem() {
        enrollTpm(device.ekPublic());
        Registrar registrar = node();

        RegistrationReply notBase64 = register(registrar, null, ",\"tpm\":{\"endorsementKey\":\"%%\"}");
        RegistrationReply noEk = register(registrar, null, ",\"tpm\":{\"storageRootKey\":\""
                + b64(device.srkPublic()) + "\"}");
        byte[] ecc = device.srkPublic().clone();
        ecc[3] = 0x23;
        RegistrationReply eccSrk = register(registrar, null, ",\"tpm\":{\"endorsementKey\":\""
                + b64(device.ekPublic()) + "\",\"storageRootKey\":\"" + b64(ecc) + "\"}");

        for (RegistrationReply reply : List.of(notBase64, noEk, eccSrk)) {
            assertThat(reply.status()).isEqualTo(400);
            assertThat(reply.error().errorCode()).isEqualTo(ErrorCode.INVALID_REQUEST_BODY.code());
        }
        assertThat(notBase64.error().message()).isEqualTo("the request body's tpm.endorsementKey is not valid base64");
        assertThat(noEk.error().message()).contains("has no endorsementKey");
        assertThat(eccSrk.error().message()).contains("tpm.storageRootKey is an ECC key");
    }

    @Test
    void aChallengeNeedsTheStorageRootKey() {
        enrollTpm(device.ekPublic());

        RegistrationReply reply = register(node(), null, ",\"tpm\":{\"endorsementKey\":\"" + b64(device.ekPublic())
                + "\"}");

        assertThat(reply.status()).isEqualTo(401);
        assertThat(reply.error().message()).contains("must send tpm.storageRootKey");
    }
}
