package io.opendps.core.enrollment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.opendps.core.allocation.Allocator;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.ca.CaCertificateOptions;
import io.opendps.core.ca.CaCertificateService;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.json.Json;
import io.opendps.core.store.jdbc.JdbcCaCertificateStore;
import io.opendps.core.store.jdbc.JdbcEnrollmentStore;
import io.opendps.core.store.jdbc.JdbcRegistrationStore;
import io.opendps.core.testing.MutableClock;
import io.opendps.core.testing.TestDatabase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * {@link BulkEnrollmentService} on the production schema in H2: every mode, per-item failures with the codes and
 * messages of the single calls, the whole-request checks (which write nothing), and the audit summary.
 */
class BulkEnrollmentServiceTest {

    private static final Instant T0 = Instant.parse("2024-03-13T15:22:27.5912345Z");
    private static final String KEY_32 = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";

    private final MutableClock clock = new MutableClock(T0);
    private TestDatabase database;
    private JdbcEnrollmentStore store;
    private EnrollmentService single;
    private BulkEnrollmentService bulk;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        store = new JdbcEnrollmentStore(database.db());
        Allocator allocator = new Allocator(List.of(LinkedHub.of("hub-a.azure-devices.net")));
        single = new EnrollmentService(store, new JdbcRegistrationStore(database.db()), allocator,
                new CaCertificateService(new JdbcCaCertificateStore(database.db()), store,
                        CaCertificateOptions.DEFAULTS, clock), clock);
        bulk = new BulkEnrollmentService(single);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    // --- create ---

    @Test
    void create_newItems_allStoredWithGeneratedKeys_andEmptyErrors() {
        BulkOperationResult result = bulk.enrollments(BulkEnrollmentOperation.of(BulkMode.CREATE,
                List.of(plain("dev-1"), plain("dev-2"))));

        assertThat(result.isSuccessful()).isTrue();
        assertThat(result.errors()).isEmpty();
        assertThat(Json.toText(result)).isEqualTo("{\"isSuccessful\":true,\"errors\":[]}");
        for (String id : List.of("dev-1", "dev-2")) {
            assertThat(single.enrollmentAttestation(id).symmetricKey().primaryKey()).hasSize(88);
        }
    }

    @Test
    void create_tenItems_oneStoreTransaction_failuresInRequestOrder() {
        single.putEnrollment("batch-05", plain("batch-05"), null);
        List<IndividualEnrollment> items = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            String id = String.format("batch-%02d", i);
            items.add(i == 2 ? IndividualEnrollment.symmetricKey(id, "not base64!", null) : plain(id));
        }
        long before = database.db().transactionCount();

        BulkOperationResult result = bulk.enrollments(BulkEnrollmentOperation.of(BulkMode.CREATE, items));

        assertThat(database.db().transactionCount() - before).isEqualTo(1);
        assertThat(result.errors()).extracting(BulkOperationError::id, BulkOperationError::errorCode)
                .containsExactly(org.assertj.core.api.Assertions.tuple("batch-02", 400004),
                        org.assertj.core.api.Assertions.tuple("batch-05", 409201));
        for (int i : new int[] {0, 1, 3, 4, 6, 7, 8, 9}) {
            assertThat(store.findEnrollment(String.format("batch-%02d", i))).isPresent();
        }
        assertThat(store.findEnrollment("batch-02")).isEmpty();
    }

    @Test
    void create_existingItem_failsWith409LikeSingleCall_othersCreated_existingUntouched() {
        single.putEnrollment("dev-old", plain("dev-old"), null);
        IndividualEnrollment existing = store.findEnrollment("dev-old").orElseThrow();
        String singleCallMessage = rejected(ErrorCode.ENROLLMENT_EXISTS,
                () -> single.putEnrollment("dev-old", plain("dev-old"), null)).getMessage();

        BulkOperationResult result = bulk.enrollments(BulkEnrollmentOperation.of(BulkMode.CREATE,
                List.of(plain("dev-new-1"), plain("DEV-OLD"), plain("dev-new-2"))));

        assertThat(result.isSuccessful()).isFalse();
        assertThat(result.errors()).containsExactly(new BulkOperationError("DEV-OLD", null, 409201,
                singleCallMessage.replace("dev-old", "DEV-OLD")));
        assertThat(single.getEnrollment("dev-new-1")).isPresent();
        assertThat(single.getEnrollment("dev-new-2")).isPresent();
        assertThat(store.findEnrollment("dev-old").orElseThrow()).isEqualTo(existing);
    }

    @Test
    void create_invalidItem_failsWithTheSingleCallsCodeAndMessage_andStoresNothingForIt() {
        IndividualEnrollment badKey = IndividualEnrollment.symmetricKey("dev-bad", "not base64!", null);
        String singleCallMessage = rejected(ErrorCode.INVALID_ARGUMENT,
                () -> single.putEnrollment("dev-bad", badKey, null)).getMessage();

        BulkOperationResult result = bulk.enrollments(BulkEnrollmentOperation.of(BulkMode.CREATE,
                List.of(badKey, plain("dev-good"))));

        assertThat(result.errors()).containsExactly(new BulkOperationError("dev-bad", null, 400004,
                singleCallMessage));
        assertThat(singleCallMessage).contains("symmetricKey.primaryKey");
        assertThat(store.findEnrollment("dev-bad")).isEmpty();
        assertThat(store.findEnrollment("dev-good")).isPresent();
    }

    @Test
    void create_invalidIdInItem_isAPerItem400NamingTheId() {
        BulkOperationResult result = bulk.enrollments(BulkEnrollmentOperation.of(BulkMode.CREATE,
                List.of(plain("bad id!"))));

        assertThat(result.errors()).singleElement().satisfies(e -> {
            assertThat(e.registrationId()).isEqualTo("bad id!");
            assertThat(e.errorCode()).isEqualTo(400004);
            assertThat(e.errorStatus()).contains("invalid registrationId 'bad id!'");
        });
    }

    // --- update ---

    @Test
    void update_replacesExistingRegardlessOfEtag_andCreatesAbsent() {
        IndividualEnrollment old = single.putEnrollment("dev-1", IndividualEnrollment.symmetricKey("dev-1", KEY_32,
                null), null);
        clock.advance(Duration.ofSeconds(5));

        BulkOperationResult result = bulk.enrollments(BulkEnrollmentOperation.of(BulkMode.UPDATE, List.of(
                withStatus(plain("dev-1"), ProvisioningStatus.DISABLED, "\"stale\""), plain("dev-2"))));

        assertThat(result.isSuccessful()).as(result.toString()).isTrue();
        IndividualEnrollment updated = store.findEnrollment("dev-1").orElseThrow();
        assertThat(updated.provisioningStatus()).isEqualTo(ProvisioningStatus.DISABLED);
        assertThat(updated.etag()).isNotEqualTo(old.etag());
        assertThat(updated.createdDateTimeUtc()).isEqualTo(T0);
        assertThat(updated.lastUpdatedDateTimeUtc()).isEqualTo(T0.plusSeconds(5));
        assertThat(updated.attestation().symmetricKey().primaryKey()).as("omitted key kept").isEqualTo(KEY_32);
        assertThat(store.findEnrollment("dev-2")).isPresent();
    }

    // --- updateIfMatchETag ---

    @Test
    void updateIfMatchEtag_currentEtagReplaces_staleEtagIs412_missingEtagIs400_othersUntouched() {
        IndividualEnrollment a = single.putEnrollment("dev-a", plain("dev-a"), null);
        single.putEnrollment("dev-b", plain("dev-b"), null);
        single.putEnrollment("dev-c", plain("dev-c"), null);
        IndividualEnrollment b = store.findEnrollment("dev-b").orElseThrow();
        IndividualEnrollment c = store.findEnrollment("dev-c").orElseThrow();
        String stale = Etags.newEnrollmentEtag();
        String singleCall412 = rejected(ErrorCode.ENROLLMENT_PRECONDITION_FAILED,
                () -> single.putEnrollment("dev-b", plain("dev-b"), stale)).getMessage();

        BulkOperationResult result = bulk.enrollments(BulkEnrollmentOperation.of(BulkMode.UPDATE_IF_MATCH_ETAG,
                List.of(withStatus(plain("dev-a"), ProvisioningStatus.DISABLED, a.etag()),
                        withStatus(plain("dev-b"), ProvisioningStatus.DISABLED, stale),
                        withStatus(plain("dev-c"), ProvisioningStatus.DISABLED, null))));

        assertThat(result.isSuccessful()).isFalse();
        assertThat(result.errors()).hasSize(2);
        assertThat(result.errors().get(0)).isEqualTo(new BulkOperationError("dev-b", null, 412201, singleCall412));
        assertThat(result.errors().get(1).registrationId()).isEqualTo("dev-c");
        assertThat(result.errors().get(1).errorCode()).isEqualTo(400004);
        assertThat(result.errors().get(1).errorStatus()).contains("'dev-c' has no etag").contains("updateIfMatchETag");
        assertThat(store.findEnrollment("dev-a").orElseThrow().provisioningStatus())
                .isEqualTo(ProvisioningStatus.DISABLED);
        assertThat(store.findEnrollment("dev-b").orElseThrow()).isEqualTo(b);
        assertThat(store.findEnrollment("dev-c").orElseThrow()).isEqualTo(c);
    }

    @Test
    void updateIfMatchEtag_absentItem_is412LikeSingleCall() {
        BulkOperationResult result = bulk.enrollments(BulkEnrollmentOperation.of(BulkMode.UPDATE_IF_MATCH_ETAG,
                List.of(withStatus(plain("dev-none"), null, "\"whatever\""))));

        assertThat(result.errors()).singleElement().satisfies(e -> assertThat(e.errorCode()).isEqualTo(412201));
        assertThat(store.findEnrollment("dev-none")).isEmpty();
    }

    // --- delete ---

    @Test
    void delete_withoutEtagDeletes_matchingEtagDeletes_staleEtagIs412_absentIs404() {
        single.putEnrollment("dev-1", plain("dev-1"), null);
        IndividualEnrollment two = single.putEnrollment("dev-2", plain("dev-2"), null);
        single.putEnrollment("dev-3", plain("dev-3"), null);
        IndividualEnrollment three = store.findEnrollment("dev-3").orElseThrow();
        String singleCall404 = rejected(ErrorCode.ENROLLMENT_NOT_FOUND,
                () -> single.deleteEnrollment("dev-none", null)).getMessage();

        BulkOperationResult result = bulk.enrollments(BulkEnrollmentOperation.of(BulkMode.DELETE, List.of(
                idOnly("dev-1", null), idOnly("dev-2", two.etag()), idOnly("dev-3", "\"stale\""),
                idOnly("dev-none", null))));

        assertThat(result.errors()).extracting(BulkOperationError::registrationId, BulkOperationError::errorCode)
                .containsExactly(tuple("dev-3", 412201),
                        tuple("dev-none", 404201));
        assertThat(result.errors().get(1).errorStatus()).isEqualTo(singleCall404);
        assertThat(store.findEnrollment("dev-1")).isEmpty();
        assertThat(store.findEnrollment("dev-2")).isEmpty();
        assertThat(store.findEnrollment("dev-3").orElseThrow()).isEqualTo(three);
    }

    // --- whole-request checks: 400, nothing written ---

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "upsert", "createOrUpdate"})
    void badMode_is400ListingTheValidModes_andWritesNothing(String mode) {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT, () -> bulk.enrollments(
                new BulkEnrollmentOperation(mode, List.of(plain("dev-1")))));

        assertThat(e.getMessage()).contains("mode").contains("create, update, updateIfMatchETag, delete");
        assertThat(store.findEnrollment("dev-1")).isEmpty();
    }

    @Test
    void missingMode_is400NamingMode() {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT, () -> bulk.enrollments(
                new BulkEnrollmentOperation(null, List.of(plain("dev-1")))));

        assertThat(e.getMessage()).isEqualTo("mode is required; use one of create, update, updateIfMatchETag, delete");
    }

    @Test
    void mode_isMatchedCaseInsensitively() {
        BulkOperationResult result = bulk.enrollments(new BulkEnrollmentOperation("UPDATEIFMATCHETAG",
                List.of(withStatus(plain("dev-1"), null, null))));

        assertThat(result.errors()).singleElement().satisfies(e -> assertThat(e.errorStatus()).contains("no etag"));
    }

    @Test
    void missingOrEmptyList_is400NamingTheList() {
        for (List<IndividualEnrollment> items : Arrays.asList(null, List.<IndividualEnrollment>of())) {
            ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT,
                    () -> bulk.enrollments(new BulkEnrollmentOperation("create", items)));
            assertThat(e.getMessage()).isEqualTo("enrollments is required: a list of 1 to 10 items");
        }
        ProvisioningException groups = rejected(ErrorCode.INVALID_ARGUMENT,
                () -> bulk.groups(new BulkEnrollmentGroupOperation("delete", null)));
        assertThat(groups.getMessage()).startsWith("enrollmentGroups is required");
    }

    @Test
    void elevenItems_is400WithTheLimitCode_andWritesNothing() {
        List<IndividualEnrollment> eleven = IntStream.rangeClosed(1, 11).mapToObj(i -> plain("many-" + i)).toList();

        ProvisioningException e = rejected(ErrorCode.BULK_TOO_MANY_ITEMS,
                () -> bulk.enrollments(BulkEnrollmentOperation.of(BulkMode.CREATE, eleven)));

        assertThat(e.code().code()).isEqualTo(400220);
        assertThat(e.getMessage()).contains("11 items").contains("at most 10").contains("Azure DPS limit");
        assertThat(store.listEnrollments(null, 100)).isEmpty();
    }

    @Test
    void tenItems_isTheLimitAndAllApply() {
        List<IndividualEnrollment> ten = IntStream.rangeClosed(1, 10).mapToObj(i -> plain("ten-" + i)).toList();

        assertThat(bulk.enrollments(BulkEnrollmentOperation.of(BulkMode.CREATE, ten)).isSuccessful()).isTrue();
        assertThat(store.listEnrollments(null, 100)).hasSize(10);
    }

    @Test
    void duplicateIds_caseInsensitive_is400NamingTheId_andWritesNothing() {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT, () -> bulk.enrollments(
                BulkEnrollmentOperation.of(BulkMode.CREATE, List.of(plain("dup-1"), plain("other"),
                        plain("DUP-1")))));

        assertThat(e.getMessage()).isEqualTo("registrationId 'DUP-1' appears twice (enrollments[0] and "
                + "enrollments[2]); a bulk operation may name each id once (ids are case-insensitive)");
        assertThat(store.findEnrollment("other")).isEmpty();
    }

    @Test
    void itemWithoutId_is400NamingItsIndex_andWritesNothing() {
        ProvisioningException e = rejected(ErrorCode.INVALID_ARGUMENT, () -> bulk.enrollments(
                BulkEnrollmentOperation.of(BulkMode.CREATE, List.of(plain("first"), enrollment(
                        "{\"attestation\":{\"type\":\"symmetricKey\"}}")))));

        assertThat(e.getMessage()).isEqualTo("enrollments[1] has no registrationId; every item needs one");
        assertThat(store.findEnrollment("first")).isEmpty();
    }

    // --- groups ---

    @Test
    void groups_mixOfModesAndFailures_reportEnrollmentGroupIds() {
        single.putGroup("fleet-old", EnrollmentGroup.symmetricKey("fleet-old", null, null), null);
        EnrollmentGroup kept = store.findGroup("fleet-old").orElseThrow();

        BulkOperationResult created = bulk.groups(BulkEnrollmentGroupOperation.of(BulkMode.CREATE, List.of(
                EnrollmentGroup.symmetricKey("fleet-new", null, null),
                EnrollmentGroup.symmetricKey("fleet-old", null, null),
                group("{\"enrollmentGroupId\":\"fleet-tpm\",\"attestation\":{\"type\":\"tpm\","
                        + "\"tpm\":{\"endorsementKey\":\"AToAAQAL\"}}}"))));

        assertThat(created.errors()).extracting(BulkOperationError::enrollmentGroupId, BulkOperationError::errorCode)
                .containsExactly(tuple("fleet-old", 409204),
                        tuple("fleet-tpm", 400004));
        assertThat(created.errors()).allSatisfy(e -> assertThat(e.registrationId()).isNull());
        assertThat(Json.toText(created.errors().get(0))).startsWith("{\"enrollmentGroupId\":\"fleet-old\","
                + "\"errorCode\":409204,\"errorStatus\":");
        assertThat(store.findGroup("fleet-old").orElseThrow()).isEqualTo(kept);
        assertThat(store.findGroup("fleet-new")).isPresent();
        assertThat(store.findGroup("fleet-tpm")).isEmpty();

        BulkOperationResult deleted = bulk.groups(BulkEnrollmentGroupOperation.of(BulkMode.DELETE, List.of(
                EnrollmentGroup.symmetricKey("fleet-new", null, null),
                EnrollmentGroup.symmetricKey("fleet-gone", null, null))));

        assertThat(deleted.errors()).extracting(BulkOperationError::enrollmentGroupId, BulkOperationError::errorCode)
                .containsExactly(tuple("fleet-gone", 404204));
        assertThat(store.findGroup("fleet-new")).isEmpty();
    }

    @Test
    void groups_updateIfMatchEtag_staleIs412204() {
        single.putGroup("fleet", EnrollmentGroup.symmetricKey("fleet", null, null), null);
        EnrollmentGroup g = store.findGroup("fleet").orElseThrow();
        EnrollmentGroup stale = new EnrollmentGroup("fleet", g.attestation(), null, null, null, "\"stale\"",
                ProvisioningStatus.DISABLED, null, null, null, null, null, null);

        BulkOperationResult result = bulk.groups(BulkEnrollmentGroupOperation.of(BulkMode.UPDATE_IF_MATCH_ETAG,
                List.of(stale)));

        assertThat(result.errors()).singleElement().satisfies(e -> assertThat(e.errorCode()).isEqualTo(412204));
        assertThat(store.findGroup("fleet").orElseThrow()).isEqualTo(g);
    }

    // --- wire shapes and audit ---

    @Test
    void request_specExample_parses() throws IOException {
        BulkEnrollmentOperation op = Json.parse(("{ \"mode\": \"create\", \"enrollments\": ["
                + "{ \"registrationId\": \"dev-1\", \"attestation\": { \"type\": \"tpm\", \"tpm\": "
                + "{ \"endorsementKey\": \"AToAAQAL\" } } },"
                + "{ \"registrationId\": \"dev-2\", \"attestation\": { \"type\": \"symmetricKey\" } } ] }")
                .getBytes(StandardCharsets.UTF_8), BulkEnrollmentOperation.class);

        assertThat(op.mode()).isEqualTo("create");
        assertThat(op.enrollments()).extracting(IndividualEnrollment::registrationId).containsExactly("dev-1", "dev-2");
        assertThat(Json.toText(BulkEnrollmentOperation.of(BulkMode.UPDATE_IF_MATCH_ETAG, List.of())))
                .isEqualTo("{\"mode\":\"updateIfMatchETag\",\"enrollments\":[]}");
    }

    @Test
    void request_nullItem_isRefusedNamingItsIndex() {
        IOException e = catchThrowableOfType(IOException.class, () -> Json.parse(
                "{\"mode\":\"create\",\"enrollmentGroups\":[{\"enrollmentGroupId\":\"g\"},null]}"
                        .getBytes(StandardCharsets.UTF_8), BulkEnrollmentGroupOperation.class));

        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains("enrollmentGroups[1] is null");
    }

    @Test
    void result_responseExample_roundTrips_andMissingErrorsReadsAsEmpty() throws IOException {
        String example = "{\"isSuccessful\":false,\"errors\":[{\"registrationId\":\"dev-2\",\"errorCode\":409201,"
                + "\"errorStatus\":\"Enrollment already exists.\"}]}";

        BulkOperationResult parsed = Json.parse(example.getBytes(StandardCharsets.UTF_8), BulkOperationResult.class);

        assertThat(parsed).isEqualTo(new BulkOperationResult(false, List.of(new BulkOperationError("dev-2", null,
                409201, "Enrollment already exists."))));
        assertThat(Json.toText(parsed)).isEqualTo(example);
        assertThat(Json.parse("{\"isSuccessful\":true}".getBytes(StandardCharsets.UTF_8), BulkOperationResult.class)
                .errors()).isEmpty();
    }

    @Test
    void audit_oneSummaryLinePerRequest_withoutKeys() {
        Logger audit = (Logger) LoggerFactory.getLogger("io.opendps.audit");
        Level before = audit.getLevel();
        boolean additive = audit.isAdditive();
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        audit.addAppender(appender);
        audit.setLevel(Level.INFO);
        audit.setAdditive(false);
        try {
            single.putEnrollment("dev-old", plain("dev-old"), null);
            bulk.enrollments(BulkEnrollmentOperation.of(BulkMode.CREATE, List.of(
                    IndividualEnrollment.symmetricKey("dev-key", KEY_32, null), plain("dev-old"))));
        } finally {
            audit.detachAppender(appender);
            audit.setLevel(before);
            audit.setAdditive(additive);
        }

        List<String> lines = new ArrayList<>();
        appender.list.forEach(event -> lines.add(event.getFormattedMessage()));
        assertThat(lines).filteredOn(l -> l.startsWith("bulk ")).containsExactly(
                "bulk enrollments applied [mode: create, items: 2, failed: 1, failed-ids: [dev-old]]");
        assertThat(lines).noneMatch(l -> l.contains(KEY_32));
    }

    // --- helpers ---

    private static IndividualEnrollment plain(String id) {
        return IndividualEnrollment.symmetricKey(id, null, null);
    }

    private static IndividualEnrollment idOnly(String id, @Nullable String etag) {
        return new IndividualEnrollment(id, null, null, null, null, null, null, etag, null, null, null, null, null,
                null, null, null);
    }

    private static IndividualEnrollment withStatus(IndividualEnrollment e, @Nullable ProvisioningStatus status,
            @Nullable String etag) {
        return new IndividualEnrollment(e.registrationId(), null, null, e.attestation(), null, null, null, etag,
                status, null, null, null, null, null, null, null);
    }

    private static IndividualEnrollment enrollment(String json) {
        try {
            return Json.parse(json.getBytes(StandardCharsets.UTF_8), IndividualEnrollment.class);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static EnrollmentGroup group(String json) {
        try {
            return Json.parse(json.getBytes(StandardCharsets.UTF_8), EnrollmentGroup.class);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static ProvisioningException rejected(ErrorCode code, ThrowingCallable call) {
        ProvisioningException e = catchThrowableOfType(ProvisioningException.class, call);
        assertThat(e).as("expected a %s", code).isNotNull();
        assertThat(e.code()).isEqualTo(code);
        return e;
    }
}
