package io.opendps.core.registration;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.EnrollmentService;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.hub.BuiltInHub;
import io.opendps.core.sas.DerivedKeys;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.store.jdbc.JdbcHubStore;
import io.opendps.core.store.jdbc.JdbcRegistrationStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestDatabase;
import io.opendps.core.x509.X509ChainValidator;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Store round trips (transactions) per registration, counted with {@code JdbcDatabase.transactionCount()}: a group
 * device among 300 groups costs what it costs among 1 (the group snapshot), and the counts are pinned so a change
 * that adds round trips is seen. The numbers are in BENCHMARKS.md (issue 7, part B).
 */
@Timeout(60)
class RegistrarStoreRoundTripsTest {

    private static final Logger LOG = LoggerFactory.getLogger(RegistrarStoreRoundTripsTest.class);
    private static final String SCOPE = "0ne00000001";
    private static final String API = "2021-06-01";
    private static final String HUB = "hub-a.azure-devices.net";

    private final MutableClock clock = new MutableClock(Instant.parse("2024-05-01T10:00:00Z"));
    private final SecureRandom random = new SecureRandom();
    private TestDatabase database;
    private EnrollmentService enrollments;
    private Registrar registrar;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        JdbcEnrollmentStore enrollmentStore = new JdbcEnrollmentStore(database.db());
        JdbcRegistrationStore registrations = new JdbcRegistrationStore(database.db());
        Allocator allocator = new Allocator(List.of(LinkedHub.of(HUB)));
        CaCertificateService cas = new CaCertificateService(new JdbcCaCertificateStore(database.db()),
                enrollmentStore, CaCertificateOptions.DEFAULTS, clock);
        enrollments = new EnrollmentService(enrollmentStore, registrations, allocator, cas, clock);
        DeviceAuthenticator authenticator = new DeviceAuthenticator(SCOPE, enrollmentStore,
                new SasVerifier(clock, Duration.ofMinutes(5)), cas, new X509ChainValidator(clock));
        BuiltInHub hub = new BuiltInHub(List.of(HUB), new JdbcHubStore(database.db()), clock, 100);
        registrar = new Registrar(SCOPE, authenticator, registrations, allocator, hub.connectors(), clock);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    private String key() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }

    private String group(String id) {
        String key = key();
        enrollments.putGroup(id, new EnrollmentGroup(id, AttestationMechanism.symmetricKey(key, key()), null, null,
                null, null, ProvisioningStatus.ENABLED, null, null, null, null, null, null), null);
        return key;
    }

    /** Registers and polls once; returns the transactions of the register and of the poll. */
    private long[] registerAndPoll(String registrationId, String deviceKey) {
        String token = SasSigner.deviceToken(SCOPE, registrationId, Base64.getDecoder().decode(deviceKey),
                clock.instant().plus(Duration.ofHours(1)));
        long t0 = database.db().transactionCount();
        RegistrationReply accepted = registrar.register(new RegistrationRequest(SCOPE, registrationId, token,
                ("{\"registrationId\":\"" + registrationId + "\"}").getBytes(StandardCharsets.UTF_8), API));
        long t1 = database.db().transactionCount();
        assertThat(accepted.status()).isEqualTo(202);
        String operationId = Objects.requireNonNull(accepted.operation()).operationId();
        RegistrationReply done = registrar.operationStatus(new OperationStatusRequest(SCOPE, registrationId, token,
                operationId, API));
        long t2 = database.db().transactionCount();
        assertThat(done.status()).isEqualTo(200);
        assertThat(Objects.requireNonNull(done.operation()).status()).isEqualTo(RegistrationStatus.ASSIGNED);
        return new long[] {t1 - t0, t2 - t1};
    }

    @Test
    void groupDevice_costsTheSameAmongOneOrThreeHundredGroups() {
        String firstKey = group("fleet-000");
        long[] warm = registerAndPoll("warm-up", DerivedKeys.deriveBase64(firstKey, "warm-up"));
        long[] oneGroup = registerAndPoll("one-group-device", DerivedKeys.deriveBase64(firstKey, "one-group-device"));
        String lastKey = null;
        for (int i = 1; i < 300; i++) {
            lastKey = group(String.format("fleet-%03d", i));
        }
        registerAndPoll("warm-up-2", DerivedKeys.deriveBase64(firstKey, "warm-up-2"));
        long[] manyGroups = registerAndPoll("last-group-device", DerivedKeys.deriveBase64(
                Objects.requireNonNull(lastKey), "last-group-device"));

        LOG.info("store transactions, group device [1 group: register {} poll {}; 300 groups: register {} poll {}; "
                + "first registration after a group write: {}]", oneGroup[0], oneGroup[1], manyGroups[0],
                manyGroups[1], warm[0]);
        assertThat(manyGroups).containsExactly(oneGroup);
        assertThat(oneGroup[0]).isEqualTo(warm[0] - 1);
    }

    @Test
    void individualDevice_roundTrips() {
        String key = key();
        enrollments.putEnrollment("single", IndividualEnrollment.symmetricKey("single", key, null), null);
        long[] counts = registerAndPoll("single", key);
        LOG.info("store transactions, individual device [register {} poll {}]", counts[0], counts[1]);
        assertThat(counts[0]).isEqualTo(6);
        assertThat(counts[1]).isEqualTo(2);
    }
}
