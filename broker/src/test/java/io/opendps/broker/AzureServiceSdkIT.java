package io.opendps.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClient;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientRegistrationResult;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientStatus;
import com.microsoft.azure.sdk.iot.provisioning.device.ProvisioningDeviceClientTransportProtocol;
import com.microsoft.azure.sdk.iot.provisioning.security.SecurityProviderSymmetricKey;
import com.microsoft.azure.sdk.iot.provisioning.service.ProvisioningServiceClient;
import com.microsoft.azure.sdk.iot.provisioning.service.Query;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.AllocationPolicy;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.BulkEnrollmentOperationError;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.BulkEnrollmentOperationResult;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.BulkOperationMode;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.DeviceCapabilities;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.DeviceRegistrationState;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.EnrollmentGroup;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.EnrollmentStatus;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.IndividualEnrollment;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.ProvisioningStatus;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.QueryResult;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.QueryResultType;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.QuerySpecification;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.QuerySpecificationBuilder;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.ReprovisionPolicy;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.SymmetricKeyAttestation;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.TwinCollection;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.TwinState;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.X509Attestation;
import com.microsoft.azure.sdk.iot.provisioning.service.configs.X509CertificateInfo;
import com.microsoft.azure.sdk.iot.provisioning.service.exceptions.ProvisioningServiceClientBadFormatException;
import com.microsoft.azure.sdk.iot.provisioning.service.exceptions.ProvisioningServiceClientBadUsageException;
import com.microsoft.azure.sdk.iot.provisioning.service.exceptions.ProvisioningServiceClientException;
import com.microsoft.azure.sdk.iot.provisioning.service.exceptions.ProvisioningServiceClientNotFoundException;
import com.microsoft.azure.sdk.iot.provisioning.service.exceptions.ProvisioningServiceClientPreconditionFailedException;
import com.microsoft.azure.sdk.iot.provisioning.service.exceptions.ProvisioningServiceClientUnathorizedException;
import io.opendps.broker.tls.CertificateTemplate;
import io.opendps.broker.tls.Certificates;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.ca.CaVerificationCode;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official Azure IoT Java <b>service</b> SDK ({@code provisioning-service-client}, unmodified) drives the real
 * server: individual enrollments and enrollment groups (symmetric key and X.509), the attestation-mechanism read,
 * paged queries, bulk operations, registration records, ETag conflicts and a bad key. The SDK is built from the
 * server's owner connection string as printed by {@code ./opendps serve}: its {@code HostName} carries no port (the
 * SDK's parser forbids one), so the server listens on 443; the device SDK, used to make devices register, needs
 * 8883. Device registrations go through the official device SDK with its stock {@link SecurityProviderSymmetricKey}.
 *
 * <p>Trust, exactly as a user must set it up: the service SDK has no hook for an {@code SSLContext}; it opens
 * {@code HttpsURLConnection}s with the JVM's default socket factory. So this class writes a PKCS#12 trust store
 * holding OpenDPS's CA and points {@code javax.net.ssl.trustStore} at it. The JDK builds its default
 * {@code SSLContext} (and {@code HttpsURLConnection} caches its default factory) <em>once per JVM</em>, on first use;
 * a property set after that is silently ignored. Two measures make this robust:
 * <ul>
 *   <li>The class carries the tag {@value #JVM_TRUST_STORE}; the broker POM runs that tag in a failsafe execution
 *       of its own, hence in a fresh JVM where no other test has touched TLS, and excludes it from the shared one.
 *       (A tag, unlike includes/excludes, also holds under {@code -Dit.test}.)</li>
 *   <li>In that JVM the properties are set before the server even starts: the server's CA is created first (what
 *       the first {@code ./opendps serve} does), the trust store is written from it, then the server starts on the
 *       same data directory and reuses the CA. Finally a TLS handshake through the JVM's default socket factory
 *       checks that the property took effect, so a future change that initialises TLS earlier fails here with an
 *       explanation rather than as an obscure {@code PKIX path building failed} in every test.</li>
 * </ul>
 * The device SDK's stock providers build their {@code SSLContext} with the default trust managers, which read the
 * same properties, so they need no customisation either.
 *
 * <p>One server for the class; every test uses its own ids. The bulk tests ({@code *Bulk*}) exercise
 * {@code POST /enrollments} as {@code dps-service-api.md} §7 specifies it.
 */
@Tag(AzureServiceSdkIT.JVM_TRUST_STORE)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AzureServiceSdkIT {

    /** The JUnit tag of ITs that need the JVM-wide default trust store, hence a JVM of their own. */
    static final String JVM_TRUST_STORE = "jvm-trust-store";

    private static final List<String> HUBS = List.of("hub-1.opendps.local", "hub-2.opendps.local");
    private static final String[] TRUST_PROPERTIES = {"javax.net.ssl.trustStore", "javax.net.ssl.trustStorePassword",
        "javax.net.ssl.trustStoreType"};
    private static final QuerySpecification ALL_ENROLLMENTS = new QuerySpecificationBuilder("*",
            QuerySpecificationBuilder.FromType.ENROLLMENTS).createSqlQuery();
    private static final QuerySpecification ALL_GROUPS = new QuerySpecificationBuilder("*",
            QuerySpecificationBuilder.FromType.ENROLLMENT_GROUPS).createSqlQuery();
    private static final QuerySpecification ALL_REGISTRATIONS = new QuerySpecificationBuilder("*",
            QuerySpecificationBuilder.FromType.DEVICE_REGISTRATIONS).createSqlQuery();

    @TempDir
    static Path dataDir;
    static OpenDpsServer server;
    static ProvisioningServiceClient service;
    static final Map<String, String> savedProperties = new HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        ServerOptions options = ServerOptions.forTests(dataDir)
                .withPorts(ServerOptions.DPS_MQTT_PORT, ServerOptions.DPS_HTTPS_PORT).withHubs(HUBS);
        X509Certificate serverCa = TlsMaterial.loadOrCreate(dataDir.toAbsolutePath(), options.hostNames(),
                Clock.systemUTC()).caCertificate();
        trustThroughTheJvmTrustStore(serverCa);
        server = OpenDpsServer.start(options);
        assertThat(Certificates.readCertificates(server.info().caCertificate()).get(0)).isEqualTo(serverCa);
        assertJvmDefaultTlsTrustsTheServer();
        service = new ProvisioningServiceClient(server.info().serviceConnectionString());
    }

    @AfterAll
    static void stop() {
        for (String p : TRUST_PROPERTIES) {
            if (savedProperties.get(p) == null) {
                System.clearProperty(p);
            } else {
                System.setProperty(p, savedProperties.get(p));
            }
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void connectionString_hostNameHasNoPort() {
        String connectionString = server.info().serviceConnectionString();

        assertThat(connectionString).startsWith("HostName=localhost;").contains("SharedAccessKeyName=")
                .contains("SharedAccessKey=");
    }

    // ---------------------------------------------------------------- individual enrollments, symmetric key

    @Test
    void individualSymmetricKey_createGetUpdateAttestationDelete() throws Exception {
        IndividualEnrollment request = new IndividualEnrollment("sdk-sym-1", new SymmetricKeyAttestation("", ""));
        request.setDeviceId("sdk-sym-1-device");
        request.setInitialTwin(twin());
        request.setCapabilities(iotEdge(true));
        request.setReprovisionPolicy(reprovision(true, false));
        request.setAllocationPolicy(AllocationPolicy.HASHED);
        request.setIotHubs(HUBS);
        request.setProvisioningStatus(ProvisioningStatus.DISABLED);

        IndividualEnrollment created = service.createOrUpdateIndividualEnrollment(request);

        SymmetricKeyAttestation keys = (SymmetricKeyAttestation) created.getAttestation();
        assertGeneratedKey(keys.getPrimaryKey());
        assertGeneratedKey(keys.getSecondaryKey());
        assertThat(keys.getPrimaryKey()).isNotEqualTo(keys.getSecondaryKey());
        assertThat(created.getEtag()).isNotBlank();
        assertRecent(created.getCreatedDateTimeUtc());
        assertThat(created.getLastUpdatedDateTimeUtc()).isEqualTo(created.getCreatedDateTimeUtc());
        assertSymmetricKeyFields(created, "sdk-sym-1-device", ProvisioningStatus.DISABLED);

        IndividualEnrollment read = service.getIndividualEnrollment("sdk-sym-1");

        assertThat(read.getRegistrationId()).isEqualTo("sdk-sym-1");
        SymmetricKeyAttestation noKeys = (SymmetricKeyAttestation) read.getAttestation();
        assertThat(noKeys.getPrimaryKey()).as("GET carries no key material").isEmpty();
        assertThat(noKeys.getSecondaryKey()).isEmpty();
        assertThat(read.getEtag()).isEqualTo(created.getEtag());
        assertThat(read.getCreatedDateTimeUtc()).isEqualTo(created.getCreatedDateTimeUtc());
        assertThat(read.getDeviceRegistrationState()).isNull();
        assertSymmetricKeyFields(read, "sdk-sym-1-device", ProvisioningStatus.DISABLED);

        SymmetricKeyAttestation attestation = (SymmetricKeyAttestation) service
                .getIndividualEnrollmentAttestationMechanism("sdk-sym-1").getAttestation();

        assertThat(attestation.getPrimaryKey()).isEqualTo(keys.getPrimaryKey());
        assertThat(attestation.getSecondaryKey()).isEqualTo(keys.getSecondaryKey());

        // The SDK's update: GET, modify, createOrUpdate (it sends the GET's etag as If-Match, and empty keys).
        read.setProvisioningStatus(ProvisioningStatus.ENABLED);
        read.getInitialTwin().getDesiredProperties().put("telemetryIntervalSec", 60);
        IndividualEnrollment updated = service.createOrUpdateIndividualEnrollment(read);

        assertThat(updated.getEtag()).isNotEqualTo(created.getEtag());
        assertThat(updated.getCreatedDateTimeUtc()).isEqualTo(created.getCreatedDateTimeUtc());
        assertThat(updated.getLastUpdatedDateTimeUtc()).isAfterOrEqualTo(created.getLastUpdatedDateTimeUtc());
        assertThat(updated.getProvisioningStatus()).isEqualTo(ProvisioningStatus.ENABLED);
        assertThat(number(updated.getInitialTwin().getDesiredProperties().get("telemetryIntervalSec"))).isEqualTo(60);
        SymmetricKeyAttestation keptKeys = (SymmetricKeyAttestation) service
                .getIndividualEnrollmentAttestationMechanism("sdk-sym-1").getAttestation();
        assertThat(keptKeys.getPrimaryKey()).as("an update resending empty keys keeps the stored ones")
                .isEqualTo(keys.getPrimaryKey());
        assertThat(keptKeys.getSecondaryKey()).isEqualTo(keys.getSecondaryKey());
        assertThat(service.getIndividualEnrollment("sdk-sym-1").getEtag()).isEqualTo(updated.getEtag());

        service.deleteIndividualEnrollment("sdk-sym-1");

        assertThatThrownBy(() -> service.getIndividualEnrollment("sdk-sym-1"))
                .isInstanceOf(ProvisioningServiceClientNotFoundException.class).hasMessageContaining("404201");
    }

    @Test
    void individualSymmetricKey_suppliedKeys_areKept() throws Exception {
        String primary = randomKey(32);
        String secondary = randomKey(64);

        IndividualEnrollment created = service.createOrUpdateIndividualEnrollment(
                new IndividualEnrollment("sdk-sym-own", new SymmetricKeyAttestation(primary, secondary)));

        SymmetricKeyAttestation keys = (SymmetricKeyAttestation) created.getAttestation();
        assertThat(keys.getPrimaryKey()).isEqualTo(primary);
        assertThat(keys.getSecondaryKey()).isEqualTo(secondary);
        assertThat(created.getCapabilities().isIotEdge()).isFalse();
        assertThat(created.getProvisioningStatus()).isEqualTo(ProvisioningStatus.ENABLED);
        assertThat(created.getReprovisionPolicy()).as("absent when not sent").isNull();
        assertThat(created.getDeviceId()).isNull();
    }

    // ---------------------------------------------------------------- individual enrollments, X.509

    @Test
    void individualX509_createGetUpdateAttestationDelete() throws Exception {
        Issued root = ca("SDK Service Root", null);
        Issued primary = device("sdk-x509-1", root);
        Issued secondary = device("sdk-x509-1", root);
        IndividualEnrollment request = new IndividualEnrollment("sdk-x509-1",
                X509Attestation.createFromClientCertificates(pem(primary), pem(secondary)));
        request.setDeviceId("sdk-x509-1-device");

        IndividualEnrollment created = service.createOrUpdateIndividualEnrollment(request);

        assertClientCertificates(created, primary.certificate(), secondary.certificate());

        IndividualEnrollment read = service.getIndividualEnrollment("sdk-x509-1");

        assertClientCertificates(read, primary.certificate(), secondary.certificate());
        assertThat(read.getDeviceId()).isEqualTo("sdk-x509-1-device");

        X509Attestation mechanism = (X509Attestation) service
                .getIndividualEnrollmentAttestationMechanism("sdk-x509-1").getAttestation();

        assertInfo(mechanism.getPrimaryX509CertificateInfo(), primary.certificate());
        assertInfo(mechanism.getSecondaryX509CertificateInfo(), secondary.certificate());

        // Update round trip: the SDK resends the x509 block with info only; the certificates must be kept.
        read.setProvisioningStatus(ProvisioningStatus.DISABLED);
        IndividualEnrollment updated = service.createOrUpdateIndividualEnrollment(read);

        assertThat(updated.getProvisioningStatus()).isEqualTo(ProvisioningStatus.DISABLED);
        assertThat(updated.getEtag()).isNotEqualTo(created.getEtag());
        assertClientCertificates(updated, primary.certificate(), secondary.certificate());
        assertClientCertificates(service.getIndividualEnrollment("sdk-x509-1"), primary.certificate(),
                secondary.certificate());

        service.deleteIndividualEnrollment(updated);

        assertThatThrownBy(() -> service.getIndividualEnrollment("sdk-x509-1"))
                .isInstanceOf(ProvisioningServiceClientNotFoundException.class);
    }

    @Test
    void individualX509_unparsableCertificate_isBadFormat_andNothingIsStored() {
        IndividualEnrollment request = new IndividualEnrollment("sdk-x509-bad",
                X509Attestation.createFromClientCertificates("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
                        + "-----END CERTIFICATE-----\n"));

        assertThatThrownBy(() -> service.createOrUpdateIndividualEnrollment(request))
                .isInstanceOf(ProvisioningServiceClientBadFormatException.class).hasMessageContaining("400");
        assertThatThrownBy(() -> service.getIndividualEnrollment("sdk-x509-bad"))
                .isInstanceOf(ProvisioningServiceClientNotFoundException.class);
    }

    // ---------------------------------------------------------------- enrollment groups

    @Test
    void groupSymmetricKey_createGetUpdateAttestationDelete() throws Exception {
        EnrollmentGroup request = new EnrollmentGroup("sdk-group-sym", new SymmetricKeyAttestation("", ""));
        request.setInitialTwin(twin());
        request.setCapabilities(iotEdge(true));
        request.setReprovisionPolicy(reprovision(false, false));
        request.setAllocationPolicy(AllocationPolicy.HASHED);
        request.setIotHubs(HUBS);
        request.setProvisioningStatus(ProvisioningStatus.DISABLED);

        EnrollmentGroup created = service.createOrUpdateEnrollmentGroup(request);

        SymmetricKeyAttestation keys = (SymmetricKeyAttestation) created.getAttestation();
        assertGeneratedKey(keys.getPrimaryKey());
        assertGeneratedKey(keys.getSecondaryKey());
        assertThat(created.getEtag()).isNotBlank();
        assertRecent(created.getCreatedDateTimeUtc());
        assertGroupFields(created, ProvisioningStatus.DISABLED);

        EnrollmentGroup read = service.getEnrollmentGroup("sdk-group-sym");

        assertThat(read.getEnrollmentGroupId()).isEqualTo("sdk-group-sym");
        assertThat(((SymmetricKeyAttestation) read.getAttestation()).getPrimaryKey()).isEmpty();
        assertThat(read.getEtag()).isEqualTo(created.getEtag());
        assertGroupFields(read, ProvisioningStatus.DISABLED);

        SymmetricKeyAttestation attestation = (SymmetricKeyAttestation) service
                .getEnrollmentGroupAttestationMechanism("sdk-group-sym").getAttestation();
        assertThat(attestation.getPrimaryKey()).isEqualTo(keys.getPrimaryKey());
        assertThat(attestation.getSecondaryKey()).isEqualTo(keys.getSecondaryKey());

        read.setProvisioningStatus(ProvisioningStatus.ENABLED);
        read.getInitialTwin().getTags().put("site", "plant-8");
        EnrollmentGroup updated = service.createOrUpdateEnrollmentGroup(read);

        assertThat(updated.getEtag()).isNotEqualTo(created.getEtag());
        assertThat(updated.getProvisioningStatus()).isEqualTo(ProvisioningStatus.ENABLED);
        assertThat(updated.getInitialTwin().getTags().get("site")).isEqualTo("plant-8");
        SymmetricKeyAttestation keptKeys = (SymmetricKeyAttestation) service
                .getEnrollmentGroupAttestationMechanism("sdk-group-sym").getAttestation();
        assertThat(keptKeys.getPrimaryKey()).isEqualTo(keys.getPrimaryKey());

        service.deleteEnrollmentGroup(updated.getEnrollmentGroupId(), updated.getEtag());

        assertThatThrownBy(() -> service.getEnrollmentGroup("sdk-group-sym"))
                .isInstanceOf(ProvisioningServiceClientNotFoundException.class).hasMessageContaining("404204");
    }

    @Test
    void groupX509_signingCertificates_createGetUpdateDelete() throws Exception {
        Issued root = ca("SDK Group Root", null);
        Issued intermediate = ca("SDK Group Intermediate", root);
        EnrollmentGroup request = new EnrollmentGroup("sdk-group-x509",
                X509Attestation.createFromRootCertificates(pem(root), pem(intermediate)));

        EnrollmentGroup created = service.createOrUpdateEnrollmentGroup(request);

        assertSigningCertificates(created, root.certificate(), intermediate.certificate());

        EnrollmentGroup read = service.getEnrollmentGroup("sdk-group-x509");

        assertSigningCertificates(read, root.certificate(), intermediate.certificate());

        read.setCapabilities(iotEdge(true));
        EnrollmentGroup updated = service.createOrUpdateEnrollmentGroup(read);

        assertThat(updated.getCapabilities().isIotEdge()).isTrue();
        assertSigningCertificates(updated, root.certificate(), intermediate.certificate());
        X509Attestation mechanism = (X509Attestation) service.getEnrollmentGroupAttestationMechanism(
                "sdk-group-x509").getAttestation();
        assertInfo(mechanism.getPrimaryX509CertificateInfo(), root.certificate());

        service.deleteEnrollmentGroup(updated);

        assertThatThrownBy(() -> service.getEnrollmentGroup("sdk-group-x509"))
                .isInstanceOf(ProvisioningServiceClientNotFoundException.class);
    }

    @Test
    void groupX509_caReferences_toAVerifiedCa_createGetUpdateDelete() throws Exception {
        Issued root = ca("SDK CA Reference Root", null);
        server.caCertificates().put("sdk-ca-ref", pem(root), false, null);
        EnrollmentGroup request = new EnrollmentGroup("sdk-group-ca-ref",
                X509Attestation.createFromCAReferences("sdk-ca-ref"));

        assertThatThrownBy(() -> service.createOrUpdateEnrollmentGroup(request))
                .as("an unverified CA cannot be referenced")
                .isInstanceOf(ProvisioningServiceClientBadFormatException.class).hasMessageContaining("not verified");

        proveAndVerify("sdk-ca-ref", root);
        EnrollmentGroup created = service.createOrUpdateEnrollmentGroup(request);

        assertThat(((X509Attestation) created.getAttestation()).getCAReferences().getPrimary()).isEqualTo("sdk-ca-ref");

        EnrollmentGroup read = service.getEnrollmentGroup("sdk-group-ca-ref");
        X509Attestation attestation = (X509Attestation) read.getAttestation();
        assertThat(attestation.getCAReferences().getPrimary()).isEqualTo("sdk-ca-ref");
        assertThat(attestation.getCAReferences().getSecondary()).isNull();

        read.setProvisioningStatus(ProvisioningStatus.DISABLED);
        EnrollmentGroup updated = service.createOrUpdateEnrollmentGroup(read);

        assertThat(updated.getProvisioningStatus()).isEqualTo(ProvisioningStatus.DISABLED);
        assertThat(((X509Attestation) updated.getAttestation()).getCAReferences().getPrimary())
                .isEqualTo("sdk-ca-ref");

        service.deleteEnrollmentGroup("sdk-group-ca-ref");

        assertThatThrownBy(() -> service.getEnrollmentGroup("sdk-group-ca-ref"))
                .isInstanceOf(ProvisioningServiceClientNotFoundException.class);
    }

    // ---------------------------------------------------------------- queries

    @Test
    void enrollmentQuery_pagesThroughMoreThanOnePage_eachItemOnce() throws Exception {
        Set<String> expected = new TreeSet<>();
        for (int i = 0; i < 25; i++) {
            String id = String.format("sdk-page-%02d", i);
            service.createOrUpdateIndividualEnrollment(new IndividualEnrollment(id, new SymmetricKeyAttestation("",
                    "")));
            expected.add(id);
        }
        Query query = service.createIndividualEnrollmentQuery(ALL_ENROLLMENTS, 10);

        List<List<String>> pages = new ArrayList<>();
        List<String> tokens = new ArrayList<>();
        while (query.hasNext()) {
            QueryResult page = query.next();
            assertThat(page.getType()).isEqualTo(QueryResultType.ENROLLMENT);
            assertThat(page.getItems()).hasSizeLessThanOrEqualTo(10);
            pages.add(registrationIds(page));
            tokens.add(page.getContinuationToken());
            assertThat(pages).as("the iterator ends").hasSizeLessThan(100);
        }

        List<String> seen = pages.stream().flatMap(List::stream).toList();
        assertThat(seen).doesNotHaveDuplicates();
        assertThat(seen.stream().filter(id -> id.startsWith("sdk-page-")).toList())
                .containsExactlyInAnyOrderElementsOf(expected);
        assertThat(pages).hasSizeGreaterThanOrEqualTo(3);
        assertThat(tokens.subList(0, tokens.size() - 1)).doesNotContainNull().allSatisfy(t -> assertThat(t)
                .isNotBlank());
        assertThat(tokens.get(tokens.size() - 1)).as("no continuation on the last page").isNull();
        assertThat(query.hasNext()).isFalse();
        assertThatThrownBy(query::next).isInstanceOf(NoSuchElementException.class);

        // A saved continuation token resumes a new query where the first one was.
        Query resumed = service.createIndividualEnrollmentQuery(ALL_ENROLLMENTS, 10);
        assertThat(registrationIds(resumed.next(tokens.get(0)))).isEqualTo(pages.get(1));
    }

    private static List<String> registrationIds(QueryResult page) throws ProvisioningServiceClientException {
        List<String> ids = new ArrayList<>();
        for (Object item : page.getItems()) {
            IndividualEnrollment e = (IndividualEnrollment) item;
            if (e.getRegistrationId().startsWith("sdk-page-")) {
                assertThat(e.getAttestation()).isInstanceOf(SymmetricKeyAttestation.class);
            }
            if (e.getAttestation() instanceof SymmetricKeyAttestation keys) {
                assertThat(keys.getPrimaryKey()).as("no keys in queries").isEmpty();
                assertThat(keys.getSecondaryKey()).isEmpty();
            }
            ids.add(e.getRegistrationId());
        }
        return ids;
    }

    @Test
    void groupQuery_pagesThroughAllGroups() throws Exception {
        Set<String> expected = new TreeSet<>();
        for (int i = 0; i < 5; i++) {
            String id = "sdk-group-page-" + i;
            service.createOrUpdateEnrollmentGroup(new EnrollmentGroup(id, new SymmetricKeyAttestation("", "")));
            expected.add(id);
        }
        Query query = service.createEnrollmentGroupQuery(ALL_GROUPS, 2);

        List<String> seen = new ArrayList<>();
        while (query.hasNext()) {
            QueryResult page = query.next();
            assertThat(page.getType()).isEqualTo(QueryResultType.ENROLLMENT_GROUP);
            assertThat(page.getItems()).hasSizeLessThanOrEqualTo(2);
            for (Object item : page.getItems()) {
                seen.add(((EnrollmentGroup) item).getEnrollmentGroupId());
            }
            assertThat(seen).hasSizeLessThan(1_000);
        }

        assertThat(seen).doesNotHaveDuplicates();
        assertThat(seen.stream().filter(id -> id.startsWith("sdk-group-page-")).toList())
                .containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void registrationQuery_listsTheRecordsOfOneGroup() throws Exception {
        EnrollmentGroup group = service.createOrUpdateEnrollmentGroup(new EnrollmentGroup("sdk-reg-group",
                new SymmetricKeyAttestation("", "")));
        String groupKey = ((SymmetricKeyAttestation) group.getAttestation()).getPrimaryKey();
        List<String> members = List.of("sdk-reg-member-1", "sdk-reg-member-2", "sdk-reg-member-3");
        for (String member : members) {
            assertThat(register(member, derivedKey(groupKey, member)).getProvisioningDeviceClientStatus())
                    .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
        }
        Query query = service.createEnrollmentGroupRegistrationStateQuery(ALL_REGISTRATIONS, "sdk-reg-group", 2);

        Map<String, DeviceRegistrationState> seen = new LinkedHashMap<>();
        int pages = 0;
        while (query.hasNext()) {
            QueryResult page = query.next();
            pages++;
            assertThat(page.getType()).isEqualTo(QueryResultType.DEVICE_REGISTRATION);
            for (Object item : page.getItems()) {
                DeviceRegistrationState state = (DeviceRegistrationState) item;
                assertThat(seen.put(state.getRegistrationId(), state)).as("seen once").isNull();
            }
            assertThat(pages).isLessThan(100);
        }

        assertThat(pages).isEqualTo(2);
        assertThat(seen.keySet()).containsExactlyInAnyOrderElementsOf(members);
        for (DeviceRegistrationState state : seen.values()) {
            assertThat(state.getStatus()).isEqualTo(EnrollmentStatus.ASSIGNED);
            assertThat(state.getDeviceId()).isEqualTo(state.getRegistrationId());
            assertThat(state.getAssignedHub()).isIn(HUBS);
            // Query items bypass the SDK's date parsing (Gson fills only the raw strings), so the timestamps are
            // checked on the single GET, which must agree with the query item.
            DeviceRegistrationState single = service.getDeviceRegistrationState(state.getRegistrationId());
            assertThat(state.getEtag()).isNotBlank().isEqualTo(single.getEtag());
            assertThat(state.getAssignedHub()).isEqualTo(single.getAssignedHub());
            assertRecent(single.getCreatedDateTimeUtc());
            assertRecent(single.getLastUpdatedDateTimeUtc());
        }
    }

    // ---------------------------------------------------------------- bulk (dps-service-api.md §7)

    @Test
    void bulkCreate_existingAndNew_reportsTheExistingOneOnly() throws Exception {
        IndividualEnrollment existing = service.createOrUpdateIndividualEnrollment(new IndividualEnrollment(
                "sdk-bulk-existing", new SymmetricKeyAttestation("", "")));
        IndividualEnrollment again = new IndividualEnrollment("sdk-bulk-existing",
                new SymmetricKeyAttestation("", ""));
        again.setProvisioningStatus(ProvisioningStatus.DISABLED);
        IndividualEnrollment fresh = new IndividualEnrollment("sdk-bulk-new", new SymmetricKeyAttestation("", ""));
        fresh.setDeviceId("sdk-bulk-new-device");

        BulkEnrollmentOperationResult result = service.runBulkEnrollmentOperation(BulkOperationMode.CREATE,
                List.of(again, fresh));

        assertThat(result.getSuccessful()).isFalse();
        assertThat(result.getErrors()).hasSize(1);
        BulkEnrollmentOperationError error = result.getErrors().get(0);
        assertThat(error.getRegistrationId()).isEqualTo("sdk-bulk-existing");
        assertThat(error.getErrorCode()).isEqualTo(409201);
        assertThat(error.getErrorStatus()).isNotBlank();
        IndividualEnrollment untouched = service.getIndividualEnrollment("sdk-bulk-existing");
        assertThat(untouched.getEtag()).isEqualTo(existing.getEtag());
        assertThat(untouched.getProvisioningStatus()).isEqualTo(ProvisioningStatus.ENABLED);
        IndividualEnrollment created = service.getIndividualEnrollment("sdk-bulk-new");
        assertThat(created.getDeviceId()).isEqualTo("sdk-bulk-new-device");
        assertGeneratedKey(((SymmetricKeyAttestation) service.getIndividualEnrollmentAttestationMechanism(
                "sdk-bulk-new").getAttestation()).getPrimaryKey());
    }

    @Test
    void bulkUpdate_updateIfMatchEtag_withOneStaleEtag_thenDelete() throws Exception {
        BulkEnrollmentOperationResult created = service.runBulkEnrollmentOperation(BulkOperationMode.CREATE,
                List.of(new IndividualEnrollment("sdk-bulk-a", new SymmetricKeyAttestation("", "")),
                        new IndividualEnrollment("sdk-bulk-b", new SymmetricKeyAttestation("", ""))));
        assertThat(created.getSuccessful()).isTrue();
        assertThat(created.getErrors()).isEmpty();
        IndividualEnrollment a = service.getIndividualEnrollment("sdk-bulk-a");
        IndividualEnrollment b = service.getIndividualEnrollment("sdk-bulk-b");
        String keyOfA = ((SymmetricKeyAttestation) service.getIndividualEnrollmentAttestationMechanism("sdk-bulk-a")
                .getAttestation()).getPrimaryKey();

        a.setDeviceId("sdk-bulk-a-device");
        b.setDeviceId("sdk-bulk-b-device");
        BulkEnrollmentOperationResult updated = service.runBulkEnrollmentOperation(BulkOperationMode.UPDATE,
                List.of(a, b));

        assertThat(updated.getSuccessful()).isTrue();
        assertThat(updated.getErrors()).isEmpty();
        IndividualEnrollment a2 = service.getIndividualEnrollment("sdk-bulk-a");
        IndividualEnrollment b2 = service.getIndividualEnrollment("sdk-bulk-b");
        assertThat(a2.getDeviceId()).isEqualTo("sdk-bulk-a-device");
        assertThat(b2.getDeviceId()).isEqualTo("sdk-bulk-b-device");
        assertThat(a2.getEtag()).isNotEqualTo(a.getEtag());
        assertThat(((SymmetricKeyAttestation) service.getIndividualEnrollmentAttestationMechanism("sdk-bulk-a")
                .getAttestation()).getPrimaryKey()).as("keys kept on update").isEqualTo(keyOfA);

        a.setProvisioningStatus(ProvisioningStatus.DISABLED); // a still carries the stale etag
        b2.setProvisioningStatus(ProvisioningStatus.DISABLED);
        BulkEnrollmentOperationResult conditional = service.runBulkEnrollmentOperation(
                BulkOperationMode.UPDATE_IF_MATCH_ETAG, List.of(a, b2));

        assertThat(conditional.getSuccessful()).isFalse();
        assertThat(conditional.getErrors()).hasSize(1);
        assertThat(conditional.getErrors().get(0).getRegistrationId()).isEqualTo("sdk-bulk-a");
        assertThat(conditional.getErrors().get(0).getErrorCode()).isEqualTo(412201);
        IndividualEnrollment a3 = service.getIndividualEnrollment("sdk-bulk-a");
        assertThat(a3.getEtag()).isEqualTo(a2.getEtag());
        assertThat(a3.getProvisioningStatus()).isEqualTo(ProvisioningStatus.ENABLED);
        assertThat(service.getIndividualEnrollment("sdk-bulk-b").getProvisioningStatus())
                .isEqualTo(ProvisioningStatus.DISABLED);

        BulkEnrollmentOperationResult deleted = service.runBulkEnrollmentOperation(BulkOperationMode.DELETE,
                List.of(a3, service.getIndividualEnrollment("sdk-bulk-b")));

        assertThat(deleted.getSuccessful()).isTrue();
        assertThat(deleted.getErrors()).isEmpty();
        for (String id : List.of("sdk-bulk-a", "sdk-bulk-b")) {
            assertThatThrownBy(() -> service.getIndividualEnrollment(id))
                    .isInstanceOf(ProvisioningServiceClientNotFoundException.class);
        }
    }

    // ---------------------------------------------------------------- registration records

    @Test
    void registrationState_getThenDelete_andTheDeviceRegistersAfresh() throws Exception {
        IndividualEnrollment request = new IndividualEnrollment("sdk-reg-1", new SymmetricKeyAttestation("", ""));
        request.setDeviceId("sdk-reg-1-first");
        IndividualEnrollment enrollment = service.createOrUpdateIndividualEnrollment(request);
        String key = ((SymmetricKeyAttestation) enrollment.getAttestation()).getPrimaryKey();

        ProvisioningDeviceClientRegistrationResult first = register("sdk-reg-1", key);

        assertThat(first.getProvisioningDeviceClientStatus())
                .isEqualTo(ProvisioningDeviceClientStatus.PROVISIONING_DEVICE_STATUS_ASSIGNED);
        DeviceRegistrationState state = service.getDeviceRegistrationState("sdk-reg-1");
        assertThat(state.getRegistrationId()).isEqualTo("sdk-reg-1");
        assertThat(state.getStatus()).isEqualTo(EnrollmentStatus.ASSIGNED);
        assertThat(state.getDeviceId()).isEqualTo("sdk-reg-1-first").isEqualTo(first.getDeviceId());
        assertThat(state.getAssignedHub()).isIn(HUBS).isEqualTo(first.getIothubUri());
        assertThat(state.getEtag()).isNotBlank();
        assertThat(state.getErrorCode()).isNull();
        assertRecent(state.getCreatedDateTimeUtc());
        IndividualEnrollment withState = service.getIndividualEnrollment("sdk-reg-1");
        assertThat(withState.getDeviceRegistrationState().getEtag()).isEqualTo(state.getEtag());

        // A new deviceId is ignored while the record exists (dps-service-api.md §8) ...
        withState.setDeviceId("sdk-reg-1-second");
        service.createOrUpdateIndividualEnrollment(withState);
        assertThat(register("sdk-reg-1", key).getDeviceId()).isEqualTo("sdk-reg-1-first");
        DeviceRegistrationState again = service.getDeviceRegistrationState("sdk-reg-1");
        assertThat(again.getEtag()).isNotEqualTo(state.getEtag());

        assertThatThrownBy(() -> service.deleteDeviceRegistrationState("sdk-reg-1", state.getEtag()))
                .as("stale etag").isInstanceOf(ProvisioningServiceClientPreconditionFailedException.class)
                .hasMessageContaining("412");
        service.deleteDeviceRegistrationState(again);

        assertThatThrownBy(() -> service.getDeviceRegistrationState("sdk-reg-1"))
                .isInstanceOf(ProvisioningServiceClientNotFoundException.class).hasMessageContaining("404202");
        assertThat(service.getIndividualEnrollment("sdk-reg-1").getDeviceRegistrationState()).isNull();

        // ... and takes effect once it is deleted: the device registers as if for the first time.
        ProvisioningDeviceClientRegistrationResult afresh = register("sdk-reg-1", key);

        assertThat(afresh.getDeviceId()).isEqualTo("sdk-reg-1-second");
        DeviceRegistrationState fresh = service.getDeviceRegistrationState("sdk-reg-1");
        assertThat(fresh.getDeviceId()).isEqualTo("sdk-reg-1-second");
        assertThat(fresh.getStatus()).isEqualTo(EnrollmentStatus.ASSIGNED);
        assertThat(fresh.getCreatedDateTimeUtc()).isAfter(state.getCreatedDateTimeUtc());
        assertThat(fresh.getEtag()).isNotEqualTo(again.getEtag());
    }

    @Test
    void registrationState_ofARefusedDevice_showsDisabled() throws Exception {
        IndividualEnrollment request = new IndividualEnrollment("sdk-reg-off", new SymmetricKeyAttestation("", ""));
        request.setProvisioningStatus(ProvisioningStatus.DISABLED);
        String key = ((SymmetricKeyAttestation) service.createOrUpdateIndividualEnrollment(request).getAttestation())
                .getPrimaryKey();

        assertThatThrownBy(() -> register("sdk-reg-off", key)).hasMessageContaining("disabled");

        DeviceRegistrationState state = service.getDeviceRegistrationState("sdk-reg-off");
        assertThat(state.getStatus()).isEqualTo(EnrollmentStatus.DISABLED);
        assertThat(state.getAssignedHub()).isNull();
        assertThat(state.getErrorCode()).isEqualTo(401002);
        assertThat(state.getErrorMessage()).contains("disabled");
        assertThat(state.getEtag()).isNotBlank();
        assertRecent(state.getLastUpdatedDateTimeUtc());
    }

    @Test
    void registrationState_unknown_isNotFound() {
        assertThatThrownBy(() -> service.getDeviceRegistrationState("sdk-reg-nobody"))
                .isInstanceOf(ProvisioningServiceClientNotFoundException.class).hasMessageContaining("404202");
        assertThatThrownBy(() -> service.deleteDeviceRegistrationState("sdk-reg-nobody"))
                .isInstanceOf(ProvisioningServiceClientNotFoundException.class);
    }

    // ---------------------------------------------------------------- ETag conflicts

    @Test
    void enrollment_createOverExisting_withoutEtag_isConflict_andKeepsTheStoredOne() throws Exception {
        IndividualEnrollment created = service.createOrUpdateIndividualEnrollment(new IndividualEnrollment(
                "sdk-etag-exists", new SymmetricKeyAttestation("", "")));
        IndividualEnrollment again = new IndividualEnrollment("sdk-etag-exists", new SymmetricKeyAttestation("", ""));
        again.setDeviceId("sdk-etag-other");

        assertThatThrownBy(() -> service.createOrUpdateIndividualEnrollment(again))
                .isExactlyInstanceOf(ProvisioningServiceClientBadUsageException.class).hasMessageContaining("409201");

        IndividualEnrollment stored = service.getIndividualEnrollment("sdk-etag-exists");
        assertThat(stored.getEtag()).isEqualTo(created.getEtag());
        assertThat(stored.getDeviceId()).isNull();
    }

    @Test
    void enrollment_staleEtag_updateAndDelete_arePreconditionFailed() throws Exception {
        IndividualEnrollment created = service.createOrUpdateIndividualEnrollment(new IndividualEnrollment(
                "sdk-etag-stale", new SymmetricKeyAttestation("", "")));
        IndividualEnrollment first = service.getIndividualEnrollment("sdk-etag-stale");
        IndividualEnrollment second = service.getIndividualEnrollment("sdk-etag-stale");
        first.setDeviceId("sdk-etag-first-writer");
        IndividualEnrollment current = service.createOrUpdateIndividualEnrollment(first);
        second.setDeviceId("sdk-etag-second-writer");

        assertThatThrownBy(() -> service.createOrUpdateIndividualEnrollment(second))
                .isInstanceOf(ProvisioningServiceClientPreconditionFailedException.class)
                .hasMessageContaining("412201");
        assertThatThrownBy(() -> service.deleteIndividualEnrollment("sdk-etag-stale", created.getEtag()))
                .isInstanceOf(ProvisioningServiceClientPreconditionFailedException.class)
                .hasMessageContaining("412201");

        IndividualEnrollment stored = service.getIndividualEnrollment("sdk-etag-stale");
        assertThat(stored.getEtag()).isEqualTo(current.getEtag());
        assertThat(stored.getDeviceId()).isEqualTo("sdk-etag-first-writer");
        service.deleteIndividualEnrollment(stored);
        assertThatThrownBy(() -> service.getIndividualEnrollment("sdk-etag-stale"))
                .isInstanceOf(ProvisioningServiceClientNotFoundException.class);
    }

    @Test
    void group_existsAndStaleEtag_areConflictAndPreconditionFailed() throws Exception {
        EnrollmentGroup created = service.createOrUpdateEnrollmentGroup(new EnrollmentGroup("sdk-etag-group",
                new SymmetricKeyAttestation("", "")));
        EnrollmentGroup stale = service.getEnrollmentGroup("sdk-etag-group");
        EnrollmentGroup current = service.createOrUpdateEnrollmentGroup(service.getEnrollmentGroup(
                "sdk-etag-group"));

        assertThatThrownBy(() -> service.createOrUpdateEnrollmentGroup(new EnrollmentGroup("sdk-etag-group",
                new SymmetricKeyAttestation("", ""))))
                .isExactlyInstanceOf(ProvisioningServiceClientBadUsageException.class).hasMessageContaining("409204");
        assertThatThrownBy(() -> service.createOrUpdateEnrollmentGroup(stale))
                .isInstanceOf(ProvisioningServiceClientPreconditionFailedException.class)
                .hasMessageContaining("412204");
        assertThatThrownBy(() -> service.deleteEnrollmentGroup("sdk-etag-group", created.getEtag()))
                .isInstanceOf(ProvisioningServiceClientPreconditionFailedException.class)
                .hasMessageContaining("412204");
        assertThat(service.getEnrollmentGroup("sdk-etag-group").getEtag()).isEqualTo(current.getEtag());
    }

    // ---------------------------------------------------------------- authentication

    @Test
    void wrongKey_isUnauthorized_andChangesNothing() throws Exception {
        IndividualEnrollment existing = service.createOrUpdateIndividualEnrollment(new IndividualEnrollment(
                "sdk-auth-existing", new SymmetricKeyAttestation("", "")));
        String wrongKey = server.info().serviceConnectionString().replaceFirst("SharedAccessKey=[^;]*",
                "SharedAccessKey=" + randomKey(32));
        ProvisioningServiceClient intruder = new ProvisioningServiceClient(wrongKey);

        assertThatThrownBy(() -> intruder.createOrUpdateIndividualEnrollment(new IndividualEnrollment(
                "sdk-auth-new", new SymmetricKeyAttestation("", ""))))
                .isInstanceOf(ProvisioningServiceClientUnathorizedException.class).hasMessageContaining("401002");
        assertThatThrownBy(() -> intruder.deleteIndividualEnrollment("sdk-auth-existing"))
                .isInstanceOf(ProvisioningServiceClientUnathorizedException.class);
        assertThatThrownBy(() -> intruder.getIndividualEnrollmentAttestationMechanism("sdk-auth-existing"))
                .isInstanceOf(ProvisioningServiceClientUnathorizedException.class);

        assertThatThrownBy(() -> service.getIndividualEnrollment("sdk-auth-new"))
                .isInstanceOf(ProvisioningServiceClientNotFoundException.class);
        assertThat(service.getIndividualEnrollment("sdk-auth-existing").getEtag()).isEqualTo(existing.getEtag());
    }

    // ---------------------------------------------------------------- helpers: checks

    private static void assertSymmetricKeyFields(IndividualEnrollment e, String deviceId, ProvisioningStatus status) {
        assertThat(e.getDeviceId()).isEqualTo(deviceId);
        assertThat(e.getProvisioningStatus()).isEqualTo(status);
        assertThat(e.getCapabilities().isIotEdge()).isTrue();
        assertThat(e.getReprovisionPolicy().getUpdateHubAssignment()).isTrue();
        assertThat(e.getReprovisionPolicy().getMigrateDeviceData()).isFalse();
        assertThat(e.getAllocationPolicy()).isEqualTo(AllocationPolicy.HASHED);
        assertThat(e.getIotHubs()).containsExactlyElementsOf(HUBS);
        assertTwin(e.getInitialTwin());
    }

    private static void assertGroupFields(EnrollmentGroup g, ProvisioningStatus status) {
        assertThat(g.getProvisioningStatus()).isEqualTo(status);
        assertThat(g.getCapabilities().isIotEdge()).isTrue();
        assertThat(g.getReprovisionPolicy().getUpdateHubAssignment()).isFalse();
        assertThat(g.getReprovisionPolicy().getMigrateDeviceData()).isFalse();
        assertThat(g.getAllocationPolicy()).isEqualTo(AllocationPolicy.HASHED);
        assertThat(g.getIotHubs()).containsExactlyElementsOf(HUBS);
        assertTwin(g.getInitialTwin());
    }

    private static void assertTwin(TwinState twin) {
        assertThat(twin.getTags().get("site")).isEqualTo("plant-7");
        assertThat(twin.getTags().get("line")).isInstanceOf(Map.class);
        assertThat(number(((Map<?, ?>) twin.getTags().get("line")).get("number"))).isEqualTo(3);
        assertThat(number(twin.getDesiredProperties().get("telemetryIntervalSec"))).isEqualTo(30);
        assertThat(twin.getDesiredProperties().get("mode")).isEqualTo("eco");
    }

    private static void assertClientCertificates(IndividualEnrollment e, X509Certificate primary,
            X509Certificate secondary) throws ProvisioningServiceClientException {
        X509Attestation x509 = (X509Attestation) e.getAttestation();
        assertThat(x509.getRootCertificates()).isNull();
        assertThat(x509.getCAReferences()).isNull();
        assertThat(x509.getClientCertificates().getPrimary().getCertificate()).as("responses carry info only")
                .isNull();
        assertInfo(x509.getPrimaryX509CertificateInfo(), primary);
        assertInfo(x509.getSecondaryX509CertificateInfo(), secondary);
    }

    private static void assertSigningCertificates(EnrollmentGroup g, X509Certificate primary,
            X509Certificate secondary) throws ProvisioningServiceClientException {
        X509Attestation x509 = (X509Attestation) g.getAttestation();
        assertThat(x509.getClientCertificates()).isNull();
        assertThat(x509.getRootCertificates().getPrimary().getCertificate()).isNull();
        assertInfo(x509.getPrimaryX509CertificateInfo(), primary);
        assertInfo(x509.getSecondaryX509CertificateInfo(), secondary);
    }

    /** The SDK parsed the 8 info fields, dates included; each matches the certificate. */
    private static void assertInfo(X509CertificateInfo info, X509Certificate cert) {
        assertThat(info).isNotNull();
        String cn = cert.getSubjectX500Principal().getName().replaceFirst("^CN=", "");
        assertThat(info.getSubjectName()).contains("CN=" + cn);
        assertThat(info.getIssuerName()).contains(cert.getIssuerX500Principal().getName());
        assertThat(info.getSha1Thumbprint()).isEqualToIgnoringCase(thumbprint("SHA-1", cert));
        assertThat(info.getSha256Thumbprint()).isEqualToIgnoringCase(thumbprint("SHA-256", cert));
        assertThat(info.getNotBeforeUtc()).isEqualTo(cert.getNotBefore());
        assertThat(info.getNotAfterUtc()).isEqualTo(cert.getNotAfter());
        assertThat(new BigInteger(info.getSerialNumber(), 16)).isEqualTo(cert.getSerialNumber());
        assertThat(info.getVersion()).isEqualTo(3);
    }

    private static void assertGeneratedKey(String key) {
        assertThat(key).hasSize(88).endsWith("==");
        assertThat(Base64.getDecoder().decode(key)).hasSize(64);
    }

    private static void assertRecent(Date date) {
        assertThat(date).isNotNull();
        assertThat(date.toInstant()).isBetween(Instant.now().minus(Duration.ofMinutes(5)), Instant.now()
                .plus(Duration.ofMinutes(1)));
    }

    private static int number(Object value) {
        assertThat(value).isInstanceOf(Number.class);
        return ((Number) value).intValue();
    }

    // ---------------------------------------------------------------- helpers: fixtures

    private static TwinState twin() {
        TwinCollection tags = new TwinCollection();
        tags.put("site", "plant-7");
        tags.put("line", Map.of("number", 3));
        TwinCollection desired = new TwinCollection();
        desired.put("telemetryIntervalSec", 30);
        desired.put("mode", "eco");
        return new TwinState(tags, desired);
    }

    private static DeviceCapabilities iotEdge(boolean value) {
        DeviceCapabilities c = new DeviceCapabilities();
        c.setIotEdge(value);
        return c;
    }

    private static ReprovisionPolicy reprovision(boolean updateHubAssignment, boolean migrateDeviceData) {
        ReprovisionPolicy p = new ReprovisionPolicy();
        p.setUpdateHubAssignment(updateHubAssignment);
        p.setMigrateDeviceData(migrateDeviceData);
        return p;
    }

    private static String randomKey(int bytes) {
        byte[] key = new byte[bytes];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    /** A group member's device key: base64(HMAC-SHA256(groupKey, registrationId)), computed as a device maker would. */
    private static String derivedKey(String groupKey, String registrationId) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(groupKey), "HmacSHA256"));
        return Base64.getEncoder().encodeToString(mac.doFinal(registrationId.getBytes(StandardCharsets.UTF_8)));
    }

    /** Registers a device with the official device SDK and its stock provider (JVM default trust). */
    private static ProvisioningDeviceClientRegistrationResult register(String registrationId, String key)
            throws Exception {
        ProvisioningDeviceClient client = ProvisioningDeviceClient.create("localhost", server.info().idScope(),
                ProvisioningDeviceClientTransportProtocol.MQTT,
                new SecurityProviderSymmetricKey(key.getBytes(StandardCharsets.UTF_8), registrationId));
        try {
            return client.registerDeviceSync(60);
        } finally {
            client.close();
        }
    }

    /** Proof of possession for an uploaded CA, through the server's own CA service (not part of the service SDK). */
    private static void proveAndVerify(String name, Issued ca) {
        CaVerificationCode code = server.caCertificates().generateVerificationCode(name, null);
        Issued proof = leaf(code.verificationCode(), ca);
        server.caCertificates().verify(name, null, pem(proof));
    }

    record Issued(X509Certificate certificate, KeyPair keys) {
    }

    private static Issued ca(String cn, Issued issuer) {
        KeyPair keys = Certificates.newEcKeyPair();
        CertificateTemplate t = Certificates.template("CN=" + cn, keys.getPublic()).ca()
                .validity(Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(365));
        t = issuer == null ? t.selfSigned(keys.getPrivate()) : t.issuedBy(issuer.certificate(), issuer.keys().getPrivate());
        return new Issued(t.issue(), keys);
    }

    private static Issued device(String cn, Issued issuer) {
        return leaf(cn, issuer);
    }

    private static Issued leaf(String cn, Issued issuer) {
        KeyPair keys = Certificates.newEcKeyPair();
        X509Certificate cert = Certificates.template("CN=" + cn, keys.getPublic())
                .validity(Instant.now().minus(Duration.ofHours(1)), Duration.ofDays(30))
                .extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH)
                .issuedBy(issuer.certificate(), issuer.keys().getPrivate()).issue();
        return new Issued(cert, keys);
    }

    private static String pem(Issued issued) {
        return Certificates.toPem(issued.certificate());
    }

    private static String thumbprint(String algorithm, X509Certificate cert) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(cert.getEncoded()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------- helpers: trust

    /**
     * What the README tells Java users: a trust store holding OpenDPS's CA ({@code keytool -importcert}), named by
     * {@code javax.net.ssl.trustStore} (here set programmatically, before anything in this JVM used TLS).
     */
    private static void trustThroughTheJvmTrustStore(X509Certificate ca) throws Exception {
        for (String p : TRUST_PROPERTIES) {
            savedProperties.put(p, System.getProperty(p));
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("opendps-ca", ca);
        Path file = dataDir.resolve("opendps-truststore.p12");
        try (OutputStream out = Files.newOutputStream(file)) {
            trust.store(out, "changeit".toCharArray());
        }
        System.setProperty("javax.net.ssl.trustStore", file.toString());
        System.setProperty("javax.net.ssl.trustStorePassword", "changeit");
        System.setProperty("javax.net.ssl.trustStoreType", "PKCS12");
    }

    /** A handshake through the very socket factory the SDK's {@code HttpsURLConnection}s use. */
    private static void assertJvmDefaultTlsTrustsTheServer() throws IOException {
        try (SSLSocket socket = (SSLSocket) HttpsURLConnection.getDefaultSSLSocketFactory()
                .createSocket("localhost", ServerOptions.DPS_HTTPS_PORT)) {
            socket.startHandshake();
        } catch (SSLHandshakeException e) {
            throw new AssertionError("the JVM's default TLS context does not trust OpenDPS's CA although "
                    + "javax.net.ssl.trustStore names a store holding it: something in this JVM used TLS before the "
                    + "property was set, and the JDK builds its default SSLContext only once. Run this class in a JVM "
                    + "of its own (JUnit tag '" + JVM_TRUST_STORE + "', the failsafe execution of that name)", e);
        }
    }
}
