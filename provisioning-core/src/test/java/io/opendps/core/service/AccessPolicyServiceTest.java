package io.opendps.core.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.json.Json;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.sas.SasVerifier;
import io.opendps.core.store.jdbc.JdbcSettingsStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class AccessPolicyServiceTest {

    private static final Instant T0 = Instant.parse("2024-05-01T10:00:00Z");
    private static final String ACTOR = "provisioningserviceowner";
    private static final String KEY_16 = Base64.getEncoder().encodeToString(bytes(16, 1));
    private static final String KEY_64 = Base64.getEncoder().encodeToString(bytes(64, 2));

    private final MutableClock clock = new MutableClock(T0);
    private final List<String> events = new ArrayList<>();
    private final ListAppender<ILoggingEvent> audit = new ListAppender<>();
    private TestDatabase database;
    private JdbcSettingsStore store;
    private AccessPolicyService service;
    private AccessPolicy owner;
    private Level auditLevel;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        store = new JdbcSettingsStore(database.db(), clock);
        owner = ServiceIdentity.loadOrCreate(store).owner();
        service = new AccessPolicyService(store, new AccessPolicyListener() {
            @Override
            public void onWritten(AccessPolicy policy) {
                events.add("written " + policy.keyName());
            }

            @Override
            public void onDeleted(String keyName) {
                events.add("deleted " + keyName);
            }
        }, clock);
        Logger logger = (Logger) LoggerFactory.getLogger("io.opendps.audit");
        auditLevel = logger.getLevel();
        logger.setLevel(Level.INFO);
        audit.start();
        logger.addAppender(audit);
    }

    @AfterEach
    void tearDown() {
        Logger logger = (Logger) LoggerFactory.getLogger("io.opendps.audit");
        logger.detachAppender(audit);
        logger.setLevel(auditLevel);
        database.close();
    }

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) seed);
        return b;
    }

    private static ProvisioningException rejected(ErrorCode code, ThrowingCallable call) {
        ProvisioningException e = catchThrowableOfType(ProvisioningException.class, call);
        assertThat(e).as("expected a %s", code).isNotNull();
        assertThat(e.code()).isEqualTo(code);
        return e;
    }

    private StoredAccessPolicy create(String name, String rights) {
        return service.put(name, AccessPolicyRequest.of(rights, null, null), null, ACTOR);
    }

    private static AccessPolicyRequest request(String json) throws Exception {
        return Json.parse(json.getBytes(java.nio.charset.StandardCharsets.UTF_8), AccessPolicyRequest.class);
    }

    /** Everything the audit logger printed, formatted. */
    private String auditText() {
        return String.join("\n", audit.list.stream().map(ILoggingEvent::getFormattedMessage).toList());
    }

    // ---------------------------------------------------------------- create

    @Test
    void put_new_generatesKeysAndStampsTimes() {
        StoredAccessPolicy created = create("enrollmentread", "EnrollmentRead");

        AccessPolicy p = created.policy();
        assertThat(p.keyName()).isEqualTo("enrollmentread");
        assertThat(p.rights()).containsExactly(AccessRight.ENROLLMENT_READ);
        assertThat(Base64.getDecoder().decode(p.primaryKey())).hasSize(64);
        assertThat(Base64.getDecoder().decode(p.secondaryKey())).hasSize(64);
        assertThat(p.primaryKey()).isNotEqualTo(p.secondaryKey());
        assertThat(created.created()).isEqualTo(T0).isEqualTo(created.updated());
        assertThat(created.etag()).matches("\"[0-9a-f-]{36}\"");
        assertThat(service.get("EnrollmentRead")).isEqualTo(created);
        assertThat(events).containsExactly("written enrollmentread");
    }

    @Test
    void put_suppliedKeysAtBothLengthLimits_areKept() {
        StoredAccessPolicy created = service.put("keys", AccessPolicyRequest.of("EnrollmentRead", KEY_16, KEY_64),
                null, ACTOR);

        assertThat(created.policy().primaryKey()).isEqualTo(KEY_16);
        assertThat(created.policy().secondaryKey()).isEqualTo(KEY_64);
    }

    @Test
    void put_rightsAsTextOrArray_caseInsensitive_withDeviceConnect() throws Exception {
        StoredAccessPolicy text = service.put("text", request(
                "{\"rights\":\"registrationstatusread,  ENROLLMENTWRITE, DeviceConnect,\"}"), null, ACTOR);
        StoredAccessPolicy array = service.put("array", request(
                "{\"keyName\":\"ARRAY\",\"rights\":[\"EnrollmentRead\",\"ServiceConfig, enrollmentread\"]}"), null,
                ACTOR);

        assertThat(text.policy().rights()).containsExactlyInAnyOrder(AccessRight.REGISTRATION_STATUS_READ,
                AccessRight.ENROLLMENT_WRITE, AccessRight.DEVICE_CONNECT);
        assertThat(text.policy().rightsText()).isEqualTo("EnrollmentWrite, DeviceConnect, RegistrationStatusRead");
        assertThat(array.policy().rights()).containsExactlyInAnyOrder(AccessRight.SERVICE_CONFIG,
                AccessRight.ENROLLMENT_READ);
        assertThat(array.keyName()).isEqualTo("array");
    }

    @Test
    void put_invalidRights_are400NamingRightsAndStoreNothing() throws Exception {
        List<String> bodies = List.of("{}", "{\"rights\":\"\"}", "{\"rights\":\" , \"}", "{\"rights\":[]}",
                "{\"rights\":\"EnrollmentRead, Superuser\"}", "{\"rights\":[\"EnrollmentRead\", null]}",
                "{\"rights\":[\"Registry Write\"]}");
        for (String body : bodies) {
            ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT,
                    () -> service.put("bad-rights", request(body), null, ACTOR));
            assertThat(e.getMessage()).as(body).contains("rights").contains("ServiceConfig, EnrollmentRead");
        }
        assertThat(rejected(ErrorCode.INVALID_ARGUMENT, () -> service.put("bad-rights",
                request("{\"rights\":\"EnrollmentRead, Superuser\"}"), null, ACTOR)))
                .hasMessageContaining("unknown access right 'Superuser'");
        assertThat(store.findPolicy("bad-rights")).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void put_invalidKeyNames_are400() {
        for (String name : List.of("has space", "semi;colon", "eq=ual", "slash/", "", "x".repeat(65), "ü")) {
            assertThat(rejected(ErrorCode.INVALID_ARGUMENT, () -> create(name, "EnrollmentRead")))
                    .as(name).hasMessageContaining("invalid keyName");
        }
        assertThat(create("a_b-c@d.e" + "x".repeat(55), "EnrollmentRead").keyName()).hasSize(64);
    }

    @Test
    void put_bodyKeyNameMismatch_is400_matchIgnoringCaseOrEmpty_isAccepted() throws Exception {
        assertThat(rejected(ErrorCode.INVALID_ARGUMENT, () -> service.put("reader",
                request("{\"keyName\":\"writer\",\"rights\":\"EnrollmentRead\"}"), null, ACTOR)))
                .hasMessageContaining("keyName 'writer' in the body does not match 'reader' in the path");

        assertThat(service.put("reader", request("{\"keyName\":\"READER\",\"rights\":\"EnrollmentRead\"}"), null,
                ACTOR).keyName()).isEqualTo("reader");
        assertThat(service.put("other", request("{\"keyName\":\"\",\"rights\":\"EnrollmentRead\"}"), null,
                ACTOR).keyName()).isEqualTo("other");
    }

    @Test
    void put_invalidKeys_are400NamingTheFieldAndStoreNothing() {
        String short15 = Base64.getEncoder().encodeToString(bytes(15, 3));
        String long65 = Base64.getEncoder().encodeToString(bytes(65, 4));

        assertThat(rejected(ErrorCode.INVALID_ARGUMENT, () -> service.put("k",
                AccessPolicyRequest.of("EnrollmentRead", "not base64!", null), null, ACTOR)))
                .hasMessage("primaryKey is not valid base64");
        assertThat(rejected(ErrorCode.INVALID_ARGUMENT, () -> service.put("k",
                AccessPolicyRequest.of("EnrollmentRead", KEY_16, short15), null, ACTOR)))
                .hasMessage("secondaryKey must be base64 of 16 to 64 bytes, got 15 bytes");
        assertThat(rejected(ErrorCode.INVALID_ARGUMENT, () -> service.put("k",
                AccessPolicyRequest.of("EnrollmentRead", long65, null), null, ACTOR)))
                .hasMessage("primaryKey must be base64 of 16 to 64 bytes, got 65 bytes");
        assertThat(store.findPolicy("k")).isEmpty();
    }

    @Test
    void put_emptyKeys_areGenerated() {
        StoredAccessPolicy created = service.put("empty-keys", AccessPolicyRequest.of("EnrollmentRead", "", ""),
                null, ACTOR);

        assertThat(created.policy().primaryKey()).hasSize(88);
        assertThat(created.policy().secondaryKey()).hasSize(88);
    }

    // ---------------------------------------------------------------- update and If-Match

    @Test
    void put_existingWithoutIfMatch_is409AndKeepsThePolicy() {
        StoredAccessPolicy created = create("dup", "EnrollmentRead");

        assertThat(rejected(ErrorCode.ACCESS_POLICY_EXISTS, () -> create("DUP", "EnrollmentWrite")))
                .hasMessageContaining("'DUP' already exists").hasMessageContaining("If-Match");

        assertThat(service.get("dup")).isEqualTo(created);
    }

    @Test
    void put_update_keepsOmittedKeysNameCasingAndCreated_newEtagAndUpdated() {
        StoredAccessPolicy created = create("Reader", "EnrollmentRead");
        clock.advance(Duration.ofMinutes(5));

        StoredAccessPolicy updated = service.put("reader", AccessPolicyRequest.of("EnrollmentRead, "
                + "RegistrationStatusRead", null, KEY_16), created.etag(), ACTOR);

        assertThat(updated.keyName()).isEqualTo("Reader");
        assertThat(updated.policy().primaryKey()).isEqualTo(created.policy().primaryKey());
        assertThat(updated.policy().secondaryKey()).isEqualTo(KEY_16);
        assertThat(updated.policy().rights()).containsExactlyInAnyOrder(AccessRight.ENROLLMENT_READ,
                AccessRight.REGISTRATION_STATUS_READ);
        assertThat(updated.etag()).isNotEqualTo(created.etag());
        assertThat(updated.created()).isEqualTo(T0);
        assertThat(updated.updated()).isEqualTo(T0.plus(Duration.ofMinutes(5)));
        assertThat(service.get("READER")).isEqualTo(updated);
    }

    @Test
    void put_ifMatchRules() {
        StoredAccessPolicy created = create("etags", "EnrollmentRead");
        String quotedless = created.etag().replace("\"", "");

        StoredAccessPolicy byWildcard = service.put("etags", AccessPolicyRequest.of("EnrollmentWrite", null, null),
                "*", ACTOR);
        assertThat(rejected(ErrorCode.ACCESS_POLICY_PRECONDITION_FAILED, () -> service.put("etags",
                AccessPolicyRequest.of("ServiceConfig", null, null), created.etag(), ACTOR)))
                .hasMessageContaining(created.etag()).hasMessageContaining(byWildcard.etag());
        StoredAccessPolicy byEtag = service.put("etags", AccessPolicyRequest.of("EnrollmentRead", null, null),
                "W/" + byWildcard.etag(), ACTOR);
        assertThat(byEtag.policy().rights()).containsExactly(AccessRight.ENROLLMENT_READ);

        assertThat(rejected(ErrorCode.ACCESS_POLICY_PRECONDITION_FAILED, () -> service.put("absent",
                AccessPolicyRequest.of("EnrollmentRead", null, null), quotedless, ACTOR)))
                .hasMessageContaining("'absent' does not exist");
        assertThat(store.findPolicy("absent")).isEmpty();
        assertThat(service.put("absent", AccessPolicyRequest.of("EnrollmentRead", null, null), "*", ACTOR)
                .keyName()).isEqualTo("absent");
    }

    @Test
    void put_removingServiceConfigFromTheLastAdministrator_is409AndChangesNothing() {
        StoredAccessPolicy before = store.findPolicy(AccessPolicy.OWNER).orElseThrow();
        create("reader", "EnrollmentRead");

        ProvisioningException e = rejected(ErrorCode.ACCESS_POLICY_LAST_SERVICE_CONFIG, () -> service.put(
                AccessPolicy.OWNER, AccessPolicyRequest.of("EnrollmentRead, EnrollmentWrite", KEY_16, null), "*",
                ACTOR));

        assertThat(e).hasMessageContaining("refusing to remove ServiceConfig from access policy "
                + "'provisioningserviceowner': it is the last policy holding ServiceConfig");
        assertThat(store.findPolicy(AccessPolicy.OWNER)).contains(before);
    }

    @Test
    void put_removingServiceConfig_withAnotherAdministrator_isAllowed() {
        create("second-admin", "ServiceConfig");

        StoredAccessPolicy downgraded = service.put(AccessPolicy.OWNER, AccessPolicyRequest.of("EnrollmentRead",
                null, null), "*", ACTOR);

        assertThat(downgraded.isAdministrator()).isFalse();
    }

    // ---------------------------------------------------------------- delete

    @Test
    void delete_rules() {
        StoredAccessPolicy reader = create("reader", "EnrollmentRead");

        assertThat(rejected(ErrorCode.ACCESS_POLICY_NOT_FOUND, () -> service.delete("nobody", null, ACTOR)))
                .hasMessage("access policy 'nobody' not found");
        assertThat(rejected(ErrorCode.ACCESS_POLICY_PRECONDITION_FAILED,
                () -> service.delete("reader", "\"stale\"", ACTOR))).hasMessageContaining("\"stale\"");
        assertThat(service.get("reader")).isEqualTo(reader);

        service.delete("READER", reader.etag(), ACTOR);

        assertThat(store.findPolicy("reader")).isEmpty();
        assertThat(events).containsExactly("written reader", "deleted reader");
        assertThat(rejected(ErrorCode.ACCESS_POLICY_NOT_FOUND, () -> service.delete("reader", "*", ACTOR)))
                .hasMessageContaining("'reader' not found");
    }

    @Test
    void delete_lastAdministrator_is409_untilAnotherExists() {
        ProvisioningException e = rejected(ErrorCode.ACCESS_POLICY_LAST_SERVICE_CONFIG,
                () -> service.delete(AccessPolicy.OWNER, null, ACTOR));
        assertThat(e).hasMessageContaining("refusing to delete access policy 'provisioningserviceowner'")
                .hasMessageContaining("give ServiceConfig to another policy first");
        assertThat(store.findPolicy(AccessPolicy.OWNER)).isPresent();

        create("new-admin", "ServiceConfig, EnrollmentRead");
        service.delete(AccessPolicy.OWNER, null, ACTOR);

        assertThat(service.list()).extracting(StoredAccessPolicy::keyName).containsExactly("new-admin");
        assertThat(rejected(ErrorCode.ACCESS_POLICY_LAST_SERVICE_CONFIG,
                () -> service.delete("new-admin", "*", ACTOR))).hasMessageContaining("'new-admin'");
    }

    // ---------------------------------------------------------------- keys

    @Test
    void regenerateKey_replacesOnlyThatKey_withNewEtag() {
        StoredAccessPolicy created = create("rotate", "EnrollmentRead");
        clock.advance(Duration.ofSeconds(30));

        StoredAccessPolicy primary = service.regenerateKey("ROTATE", PolicyKey.PRIMARY, null, ACTOR);
        StoredAccessPolicy secondary = service.regenerateKey("rotate", PolicyKey.SECONDARY, primary.etag(), ACTOR);

        assertThat(primary.policy().primaryKey()).isNotEqualTo(created.policy().primaryKey()).hasSize(88);
        assertThat(primary.policy().secondaryKey()).isEqualTo(created.policy().secondaryKey());
        assertThat(primary.etag()).isNotEqualTo(created.etag());
        assertThat(primary.updated()).isEqualTo(T0.plusSeconds(30));
        assertThat(secondary.policy().primaryKey()).isEqualTo(primary.policy().primaryKey());
        assertThat(secondary.policy().secondaryKey()).isNotEqualTo(created.policy().secondaryKey());
        assertThat(secondary.policy().rights()).isEqualTo(created.policy().rights());
        assertThat(service.get("rotate")).isEqualTo(secondary);
    }

    @Test
    void regenerateKey_absentOrStale_isRefused() {
        StoredAccessPolicy created = create("rotate", "EnrollmentRead");

        rejected(ErrorCode.ACCESS_POLICY_NOT_FOUND, () -> service.regenerateKey("nobody", PolicyKey.PRIMARY, null,
                ACTOR));
        rejected(ErrorCode.ACCESS_POLICY_PRECONDITION_FAILED, () -> service.regenerateKey("rotate",
                PolicyKey.PRIMARY, "\"stale\"", ACTOR));

        assertThat(service.get("rotate")).isEqualTo(created);
    }

    @Test
    void policyKey_parse_acceptsBothNamesInAnyCase() {
        assertThat(PolicyKey.parse(" Primary ")).isEqualTo(PolicyKey.PRIMARY);
        assertThat(PolicyKey.parse("SECONDARY")).isEqualTo(PolicyKey.SECONDARY);
        assertThat(catchThrowableOfType(IllegalArgumentException.class, () -> PolicyKey.parse("tertiary")))
                .hasMessageContaining("'tertiary' is not 'primary' or 'secondary'");
    }

    // ---------------------------------------------------------------- effect on authorization

    @Test
    void changes_takeEffectOnTheNextAuthorization() {
        ServiceAuthorizer authorizer = new ServiceAuthorizer(store, List.of("localhost"),
                new SasVerifier(clock, Duration.ofMinutes(5)));
        StoredAccessPolicy reader = create("reader", "EnrollmentRead");
        String primaryToken = token(reader.policy().keyName(), reader.policy().primaryKey());
        String secondaryToken = token(reader.policy().keyName(), reader.policy().secondaryKey());
        assertThat(authorizer.authorize(primaryToken, AccessRight.ENROLLMENT_READ).keyName()).isEqualTo("reader");

        service.regenerateKey("reader", PolicyKey.PRIMARY, null, ACTOR);
        assertThat(refusal(authorizer, primaryToken, AccessRight.ENROLLMENT_READ)).contains("signature");
        assertThat(authorizer.authorize(secondaryToken, AccessRight.ENROLLMENT_READ).keyName()).isEqualTo("reader");

        service.put("reader", AccessPolicyRequest.of("RegistrationStatusRead", null, null), "*", ACTOR);
        assertThat(refusal(authorizer, secondaryToken, AccessRight.ENROLLMENT_READ)).contains("lacks");

        service.delete("reader", null, ACTOR);
        assertThat(refusal(authorizer, secondaryToken, AccessRight.REGISTRATION_STATUS_READ))
                .contains("unknown shared access policy 'reader'");
    }

    @Test
    void deviceConnectOnly_grantsNothingOnTheServiceApi() {
        ServiceAuthorizer authorizer = new ServiceAuthorizer(store, List.of("localhost"),
                new SasVerifier(clock, Duration.ofMinutes(5)));
        StoredAccessPolicy device = create("device", "DeviceConnect");
        String t = token("device", device.policy().primaryKey());

        for (AccessRight right : EnumSet.complementOf(EnumSet.of(AccessRight.DEVICE_CONNECT))) {
            assertThat(refusal(authorizer, t, right)).contains("lacks the " + right.wireName());
        }
    }

    private String token(String name, String key) {
        return SasSigner.serviceToken("localhost", name, Base64.getDecoder().decode(key),
                clock.instant().plus(Duration.ofHours(1)));
    }

    private static String refusal(ServiceAuthorizer authorizer, String token, AccessRight right) {
        return rejected(ErrorCode.UNAUTHORIZED, () -> authorizer.authorize(token, right)).getMessage();
    }

    // ---------------------------------------------------------------- listener, audit, administrator

    @Test
    void listenerFailure_doesNotFailOrUndoTheChange() {
        AccessPolicyService failing = new AccessPolicyService(store, new AccessPolicyListener() {
            @Override
            public void onWritten(AccessPolicy policy) {
                throw new IllegalStateException("listener broke");
            }

            @Override
            public void onDeleted(String keyName) {
                throw new IllegalStateException("listener broke");
            }
        }, clock);

        StoredAccessPolicy created = failing.put("x", AccessPolicyRequest.of("EnrollmentRead", null, null), null,
                ACTOR);
        assertThat(store.findPolicy("x")).contains(created);

        failing.delete("x", null, ACTOR);
        assertThat(store.findPolicy("x")).isEmpty();
    }

    @Test
    void everyChangeAndKeyRead_isAudited_withoutKeys() {
        StoredAccessPolicy created = service.put("audited", AccessPolicyRequest.of("EnrollmentRead", KEY_16, null),
                null, ACTOR);
        StoredAccessPolicy replaced = service.put("audited", AccessPolicyRequest.of("EnrollmentWrite", null, null),
                "*", ACTOR);
        StoredAccessPolicy rotated = service.regenerateKey("audited", PolicyKey.SECONDARY, null, ACTOR);
        service.listKeys("audited", "someone-else");
        service.delete("audited", null, ACTOR);

        String text = auditText();
        assertThat(text).contains("access policy created [key-name: audited, rights: EnrollmentRead, primary-key: "
                + "supplied, secondary-key: generated, by: provisioningserviceowner]");
        assertThat(text).contains("access policy replaced [key-name: audited, rights: EnrollmentWrite, primary-key: "
                + "kept, secondary-key: kept, by: provisioningserviceowner]");
        assertThat(text).contains("access policy key regenerated [key-name: audited, key: secondary, by: "
                + "provisioningserviceowner]");
        assertThat(text).contains("access policy keys read [key-name: audited, by: someone-else]");
        assertThat(text).contains("access policy deleted [key-name: audited, rights: EnrollmentWrite, by: "
                + "provisioningserviceowner]");
        for (StoredAccessPolicy p : List.of(created, replaced, rotated)) {
            assertThat(text).doesNotContain(p.policy().primaryKey(), p.policy().secondaryKey());
        }
        assertThat(audit.list).allMatch(e -> e.getArgumentArray() == null
                || Arrays.stream(e.getArgumentArray()).noneMatch(a -> String.valueOf(a).contains(KEY_16)));
    }

    @Test
    void administrator_prefersOwner_thenMostRights_thenName() {
        AccessPolicy ownerNoConfig = new AccessPolicy(AccessPolicy.OWNER, KEY_16, KEY_16,
                Set.of(AccessRight.ENROLLMENT_READ));
        AccessPolicy small = new AccessPolicy("a-small", KEY_16, KEY_16, Set.of(AccessRight.SERVICE_CONFIG));
        AccessPolicy bigB = new AccessPolicy("b-big", KEY_16, KEY_16, EnumSet.allOf(AccessRight.class));
        AccessPolicy bigC = new AccessPolicy("C-big", KEY_16, KEY_16, EnumSet.allOf(AccessRight.class));

        assertThat(AccessPolicyService.administrator(List.of(small, bigC, owner, bigB))).contains(owner);
        assertThat(AccessPolicyService.administrator(List.of(small, bigC, ownerNoConfig, bigB))).contains(bigB);
        assertThat(AccessPolicyService.administrator(List.of(ownerNoConfig))).isEmpty();
    }

    @Test
    void view_withAndWithoutKeys_isTheDocumentedJson() throws Exception {
        StoredAccessPolicy created = service.put("view", AccessPolicyRequest.of("ServiceConfig, EnrollmentRead",
                KEY_16, KEY_64), null, ACTOR);

        String without = Json.toText(AccessPolicyView.of(created, false));
        String with = Json.toText(AccessPolicyView.of(created, true));

        assertThat(without).isEqualTo("{\"keyName\":\"view\",\"rights\":\"ServiceConfig, EnrollmentRead\","
                + "\"etag\":" + Json.toText(created.etag()) + ",\"created\":\"2024-05-01T10:00:00.0000000Z\","
                + "\"updated\":\"2024-05-01T10:00:00.0000000Z\"}");
        assertThat(with).isEqualTo("{\"keyName\":\"view\",\"primaryKey\":\"" + KEY_16 + "\",\"secondaryKey\":\""
                + KEY_64 + "\",\"rights\":\"ServiceConfig, EnrollmentRead\",\"etag\":" + Json.toText(created.etag())
                + ",\"created\":\"2024-05-01T10:00:00.0000000Z\",\"updated\":\"2024-05-01T10:00:00.0000000Z\"}");
        assertThat(AccessPolicyView.of(created, true).toString()).doesNotContain(KEY_16, KEY_64);
    }
}
