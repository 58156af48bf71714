package io.opendps.core.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.store.jdbc.JdbcSettingsStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestDatabase;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ServiceAuthorizerTest {

    private static final String HOST = "contoso-dps.azure-devices-provisioning.net";
    /** {@code dps-service-api.md} §2.2 worked example: key = bytes 0..31, se = 1735689600. */
    private static final String EXAMPLE_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    private static final Instant EXAMPLE_EXPIRY = Instant.ofEpochSecond(1_735_689_600L);
    private static final String EXAMPLE_HEADER = "SharedAccessSignature sr=contoso-dps.azure-devices-provisioning.net"
            + "&sig=lrDh2Y80ptCNFIH5rT5T2mxr%2Fvrw8UbA7lwJDvOUWTk%3D&se=1735689600&skn=provisioningserviceowner";

    private final MutableClock clock = new MutableClock(EXAMPLE_EXPIRY.minus(Duration.ofMinutes(30)));
    private TestDatabase database;
    private JdbcSettingsStore settings;
    private ServiceAuthorizer authorizer;
    private AccessPolicy owner;
    private AccessPolicy reader;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        settings = new JdbcSettingsStore(database.db());
        owner = settings.policyIfAbsent(new AccessPolicy(AccessPolicy.OWNER, EXAMPLE_KEY, Keys.generate(),
                EnumSet.allOf(AccessRight.class)));
        reader = settings.policyIfAbsent(new AccessPolicy("enrollmentread", Keys.generate(), Keys.generate(),
                Set.of(AccessRight.ENROLLMENT_READ)));
        authorizer = new ServiceAuthorizer(settings, List.of(HOST, "localhost"),
                new SasVerifier(clock, Duration.ofMinutes(5)));
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    private String token(String host, AccessPolicy policy, String key, Instant expiry) {
        return SasSigner.serviceToken(host, policy.keyName(), Base64.getDecoder().decode(key), expiry);
    }

    private String validToken(AccessPolicy policy) {
        return token(HOST, policy, policy.primaryKey(), clock.instant().plus(Duration.ofHours(1)));
    }

    private ProvisioningException refusal(@Nullable String header, AccessRight right) {
        ProvisioningException e = catchThrowableOfType(ProvisioningException.class,
                () -> authorizer.authorize(header, right));
        assertThat(e).as("refused").isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.UNAUTHORIZED);
        assertThat(e.code().code()).isEqualTo(401002);
        assertThat(e.getMessage()).startsWith("Unauthorized: ");
        assertNoSecrets(e.getMessage(), header);
        return e;
    }

    private void assertNoSecrets(String message, @Nullable String header) {
        for (AccessPolicy p : settings.policies()) {
            assertThat(message).doesNotContain(p.primaryKey(), p.secondaryKey());
        }
        if (header != null) {
            Matcher sig = Pattern.compile("sig=([^&]*)").matcher(header);
            if (sig.find() && !sig.group(1).isEmpty()) {
                assertThat(message).doesNotContain(sig.group(1),
                        URLDecoder.decode(sig.group(1), StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void serviceToken_workedExample_isTheDocumentedHeader() {
        assertThat(token(HOST, owner, EXAMPLE_KEY, EXAMPLE_EXPIRY)).isEqualTo(EXAMPLE_HEADER);
    }

    @Test
    void authorize_workedExampleHeader_returnsOwnerPolicy() {
        assertThat(authorizer.authorize(EXAMPLE_HEADER, AccessRight.ENROLLMENT_WRITE)).isEqualTo(owner);
    }

    @Test
    void authorize_secondaryKeyAndOtherHostAndPolicyCase_areAccepted() {
        String header = SasSigner.serviceToken("LOCALHOST", "ProvisioningServiceOwner",
                Base64.getDecoder().decode(owner.secondaryKey()), clock.instant().plusSeconds(60));

        assertThat(authorizer.authorize(header, AccessRight.SERVICE_CONFIG)).isEqualTo(owner);
    }

    @Test
    void authorize_policyWithTheRight_isAccepted() {
        assertThat(authorizer.authorize(validToken(reader), AccessRight.ENROLLMENT_READ)).isEqualTo(reader);
    }

    @Test
    void authorize_missingHeader_isRefused() {
        assertThat(refusal(null, AccessRight.ENROLLMENT_READ)).hasMessageContaining("no Authorization header");
        assertThat(refusal("  ", AccessRight.ENROLLMENT_READ)).hasMessageContaining("no Authorization header");
    }

    @Test
    void authorize_malformedToken_isRefused() {
        assertThat(refusal("Bearer abc", AccessRight.ENROLLMENT_READ)).hasMessageContaining("malformed SAS token");
        assertThat(refusal("SharedAccessSignature sr=" + HOST + "&se=1", AccessRight.ENROLLMENT_READ))
                .hasMessageContaining("malformed SAS token").hasMessageContaining("sig");
    }

    @Test
    void authorize_noPolicyName_isRefused() {
        String header = SasSigner.sign(HOST, clock.instant().plusSeconds(60).getEpochSecond(),
                Base64.getDecoder().decode(owner.primaryKey()), null);

        assertThat(refusal(header, AccessRight.ENROLLMENT_READ)).hasMessageContaining("names no policy (skn)");
    }

    @Test
    void authorize_unknownPolicy_isRefusedNamingIt() {
        AccessPolicy stranger = new AccessPolicy("registryreadwrite", owner.primaryKey(), owner.secondaryKey(),
                Set.of());

        assertThat(refusal(validToken(stranger), AccessRight.ENROLLMENT_READ))
                .hasMessageContaining("unknown shared access policy 'registryreadwrite'");
    }

    @Test
    void authorize_expiredToken_isRefused() {
        String header = token(HOST, owner, owner.primaryKey(), clock.instant().minus(Duration.ofMinutes(6)));

        assertThat(refusal(header, AccessRight.ENROLLMENT_READ)).hasMessageContaining("expired");
    }

    @Test
    void authorize_tokenExpiredWithinSkew_isAccepted() {
        String header = token(HOST, owner, owner.primaryKey(), clock.instant().minus(Duration.ofMinutes(4)));

        assertThat(authorizer.authorize(header, AccessRight.ENROLLMENT_READ)).isEqualTo(owner);
    }

    @Test
    void authorize_wrongHost_isRefusedNamingTheHosts() {
        String header = token("other-dps.azure-devices-provisioning.net", owner, owner.primaryKey(),
                clock.instant().plusSeconds(60));

        assertThat(refusal(header, AccessRight.ENROLLMENT_READ))
                .hasMessageContaining("other-dps.azure-devices-provisioning.net")
                .hasMessageContaining("is not this service's host name").hasMessageContaining(HOST);
    }

    @Test
    void authorize_wrongKey_isRefusedWithoutEchoingSecrets() {
        String header = token(HOST, owner, reader.primaryKey(), clock.instant().plusSeconds(60));

        assertThat(refusal(header, AccessRight.ENROLLMENT_READ))
                .hasMessageContaining("signature does not match policy 'provisioningserviceowner'");
    }

    @Test
    void authorize_missingRight_isRefusedNamingTheRight() {
        assertThat(refusal(validToken(reader), AccessRight.ENROLLMENT_WRITE))
                .hasMessageContaining("policy 'enrollmentread' lacks the EnrollmentWrite right");
        assertThat(refusal(validToken(reader), AccessRight.REGISTRATION_STATUS_READ))
                .hasMessageContaining("RegistrationStatusRead");
    }
}
