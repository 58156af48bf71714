package io.opendps.core.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.enrollment.DeviceCapabilities;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.store.jdbc.JdbcHubStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestCertificates;
import io.opendps.core.testing.TestCertificates.Issued;
import io.opendps.core.testing.TestDatabase;
import io.opendps.core.x509.X509ChainValidator;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Hub connection authentication against identities in the real built-in hub (H2). */
class HubDeviceAuthenticatorTest {

    private static final String HUB = "hub-1.example.com";
    private static final String KEY = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";
    private static final String OTHER_KEY = "T1RIRVItS0VZLTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU=";
    private static final Issued ROOT = TestCertificates.ca("Root").build();
    private static final Issued LEAF = TestCertificates.leaf("cert-dev").issuedBy(ROOT).build();
    private static final Issued OTHER_LEAF = TestCertificates.leaf("cert-dev").issuedBy(ROOT).build();

    private final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T10:00:00Z"));
    private TestDatabase database;
    private HubDeviceAuthenticator authenticator;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        BuiltInHub hub = new BuiltInHub(List.of(HUB), new JdbcHubStore(database.db()), clock, 10);
        hub.createOrUpdate(new DeviceIdentity(HUB, "key-dev", DeviceAuthentication.sas(KEY), DeviceCapabilities.NONE,
                DeviceStatus.ENABLED), InitialTwin.empty());
        hub.createOrUpdate(new DeviceIdentity(HUB, "cert-dev", DeviceAuthentication.x509(LEAF.sha256(), true),
                DeviceCapabilities.NONE, DeviceStatus.ENABLED), InitialTwin.empty());
        authenticator = new HubDeviceAuthenticator(hub, new SasVerifier(clock, Duration.ofMinutes(5)),
                new X509ChainValidator(clock));
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    private String token(String resource, String key, boolean encode) {
        String sr = encode ? URLEncoder.encode(resource, StandardCharsets.UTF_8) : resource;
        return SasSigner.sign(sr, clock.instant().plus(Duration.ofHours(1)).getEpochSecond(),
                Base64.getDecoder().decode(key), null);
    }

    private HubDeviceAuthenticator.Reason refused(HubDeviceAuthenticator.Result result) {
        assertThat(result).isInstanceOf(HubDeviceAuthenticator.Refused.class);
        return ((HubDeviceAuthenticator.Refused) result).reason();
    }

    @Test
    void sas_signedWithTheDeviceKey_rawOrEncodedSr_isAccepted() {
        for (boolean encode : new boolean[] {true, false}) {
            HubDeviceAuthenticator.Result result = authenticator.authenticate(HUB, "key-dev",
                    token(HUB + "/devices/key-dev", KEY, encode), List.of(), clock.instant());

            assertThat(result).isInstanceOfSatisfying(HubDeviceAuthenticator.Accepted.class,
                    a -> assertThat(a.identity().deviceId()).isEqualTo("key-dev"));
        }
    }

    @Test
    void sas_refusals_carryTheirReason() {
        assertThat(refused(authenticator.authenticate(HUB, "key-dev", token(HUB + "/devices/key-dev", OTHER_KEY,
                true), List.of(), clock.instant()))).isEqualTo(HubDeviceAuthenticator.Reason.BAD_SIGNATURE);
        assertThat(refused(authenticator.authenticate(HUB, "key-dev", token(HUB + "/devices/other", KEY, true),
                List.of(), clock.instant()))).isEqualTo(HubDeviceAuthenticator.Reason.WRONG_AUDIENCE);
        assertThat(refused(authenticator.authenticate("hub-9.example.com", "key-dev", token("hub-9.example.com"
                + "/devices/key-dev", KEY, true), List.of(), clock.instant())))
                .isEqualTo(HubDeviceAuthenticator.Reason.UNKNOWN_HUB);
        assertThat(refused(authenticator.authenticate(HUB, "nobody", token(HUB + "/devices/nobody", KEY, true),
                List.of(), clock.instant()))).isEqualTo(HubDeviceAuthenticator.Reason.UNKNOWN_DEVICE);
        assertThat(refused(authenticator.authenticate(HUB, "key-dev", null, List.of(), clock.instant())))
                .isEqualTo(HubDeviceAuthenticator.Reason.NO_CREDENTIAL);
        assertThat(refused(authenticator.authenticate(HUB, "cert-dev", token(HUB + "/devices/cert-dev", KEY, true),
                List.of(), clock.instant()))).isEqualTo(HubDeviceAuthenticator.Reason.WRONG_CREDENTIAL_TYPE);
        String expiring = token(HUB + "/devices/key-dev", KEY, true);
        clock.advance(Duration.ofHours(2));
        assertThat(refused(authenticator.authenticate(HUB, "key-dev", expiring, List.of(), clock.instant())))
                .isEqualTo(HubDeviceAuthenticator.Reason.EXPIRED);
    }

    @Test
    void x509_thePinnedLeafOnly() {
        assertThat(authenticator.authenticate(HUB, "cert-dev", null, List.of(LEAF.certificate(),
                ROOT.certificate()), clock.instant())).isInstanceOf(HubDeviceAuthenticator.Accepted.class);
        assertThat(refused(authenticator.authenticate(HUB, "cert-dev", null, List.of(OTHER_LEAF.certificate()),
                clock.instant()))).isEqualTo(HubDeviceAuthenticator.Reason.CERTIFICATE_MISMATCH);
        assertThat(refused(authenticator.authenticate(HUB, "key-dev", null, List.of(LEAF.certificate()),
                clock.instant()))).isEqualTo(HubDeviceAuthenticator.Reason.WRONG_CREDENTIAL_TYPE);
        assertThat(refused(authenticator.authenticate(HUB, "cert-dev", token(HUB + "/devices/cert-dev", KEY, true),
                List.of(LEAF.certificate()), clock.instant())))
                .isEqualTo(HubDeviceAuthenticator.Reason.BOTH_CREDENTIALS);
        clock.set(TestCertificates.NOT_AFTER.plus(Duration.ofDays(1)));
        assertThat(refused(authenticator.authenticate(HUB, "cert-dev", null, List.of(LEAF.certificate()),
                clock.instant()))).isEqualTo(HubDeviceAuthenticator.Reason.CERTIFICATE_NOT_VALID);
    }
}
