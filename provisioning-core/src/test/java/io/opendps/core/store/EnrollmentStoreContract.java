package io.opendps.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.enrollment.AllocationPolicy;
import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.CertificateIssuancePolicy;
import io.opendps.core.enrollment.CustomAllocationDefinition;
import io.opendps.core.enrollment.DeviceCapabilities;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.enrollment.ReprovisionPolicy;
import io.opendps.core.json.Json;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.EnrollmentRef;
import io.opendps.core.registration.GroupReference;
import io.opendps.core.registration.RegistrationOperation;
import io.opendps.core.registration.RegistrationOperationStatus;
import io.opendps.core.registration.RegistrationStatus;
import io.opendps.core.registration.Substatus;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * What every {@link EditableEnrollmentStore} promises. A store's test class implements this interface and
 * supplies a fresh, empty store (plus the registration store sharing its database) per test.
 */
public interface EnrollmentStoreContract {

    Instant CREATED = Instant.parse("2024-03-13T15:22:27.5912345Z");
    String KEY_1 = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";
    String KEY_2 = "Z3JvdXAtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";

    /** The store under test, empty. */
    EditableEnrollmentStore enrollments();

    /** The registration store over the same data (deleting an enrollment deletes its record). */
    RegistrationStore registrations();

    static JsonNode json(String text) {
        try {
            return Json.mapper().readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An enrollment with every schema field set, preview fields included, so a store round trip covers them. */
    static IndividualEnrollment enrollment(String id, String etag) {
        return new IndividualEnrollment(id, "dev-" + id, null, AttestationMechanism.symmetricKey(KEY_1, KEY_2),
                DeviceCapabilities.NONE, null,
                json("{\"tags\":{\"version\":3,\"count\":null},\"properties\":{\"desired\":{\"n\":[1,null]}}}"),
                etag, ProvisioningStatus.ENABLED, new ReprovisionPolicy(true, false), CREATED, CREATED,
                AllocationPolicy.CUSTOM, List.of("hub-a.azure-devices.net"),
                new CustomAllocationDefinition("https://alloc.example.com/api/allocate?code=k", "2021-10-01"),
                json("{\"model\":\"TX-200\"}"), new CertificateIssuancePolicy("ca-1"),
                new CertificateIssuancePolicy("ca-2"), "bundle-1", "sensor.example.com", "10.0.0.7");
    }

    /** A group with every schema field set, preview fields included. */
    static EnrollmentGroup group(String id, String etag) {
        return new EnrollmentGroup(id, AttestationMechanism.symmetricKey(KEY_1, KEY_2), DeviceCapabilities.NONE,
                null, null, etag, ProvisioningStatus.ENABLED, null, CREATED, CREATED, AllocationPolicy.GEO_LATENCY,
                null, null, "policy-1", new CertificateIssuancePolicy("ca-1"), null, "bundle-1");
    }

    static String etag() {
        return "\"" + UUID.randomUUID() + "\"";
    }

    static void saveRecord(RegistrationStore store, String registrationId, @Nullable String groupId) {
        Instant now = Instant.parse("2024-03-13T15:30:02.1234567Z");
        DeviceRegistrationState state = new DeviceRegistrationState(registrationId, now, "hub-a.azure-devices.net",
                registrationId, RegistrationStatus.ASSIGNED, Substatus.INITIAL_ASSIGNMENT, null, null, now,
                "ZXRhZw==", groupId == null ? GroupReference.INDIVIDUAL : new GroupReference(groupId), null);
        String operationId = "1.0." + UUID.randomUUID();
        store.saveAttempt(state, new RegistrationOperation(operationId, registrationId,
                groupId == null ? EnrollmentRef.individual(registrationId) : EnrollmentRef.group(groupId), now,
                new RegistrationOperationStatus(operationId, RegistrationStatus.ASSIGNED, state)));
    }

    @Test
    default void findEnrollment_absent_isEmpty() {
        assertThat(enrollments().findEnrollment("nobody")).isEmpty();
    }

    @Test
    default void insertEnrollment_thenFind_returnsTheSameDocumentWithKeys() {
        IndividualEnrollment stored = enrollment("Sensor-0042", etag());

        enrollments().insertEnrollment(stored);

        assertThat(enrollments().findEnrollment("Sensor-0042")).contains(stored);
        assertThat(enrollments().findEnrollment("sensor-0042").orElseThrow().attestation().symmetricKey().primaryKey())
                .isEqualTo(KEY_1);
        assertThat(enrollments().findEnrollment("SENSOR-0042")).contains(stored);
    }

    @Test
    default void insertEnrollment_tpm_keepsBothKeys() {
        IndividualEnrollment stored = enrollment("tpm-1", etag()).withAttestation(
                AttestationMechanism.tpm("AAQAAQAL", "AAQAIwAL"));

        enrollments().insertEnrollment(stored);

        assertThat(enrollments().findEnrollment("tpm-1")).contains(stored);
    }

    @Test
    default void insertEnrollment_sameIdOtherCase_throwsDuplicateKey() {
        enrollments().insertEnrollment(enrollment("sensor-1", etag()));

        assertThatThrownBy(() -> enrollments().insertEnrollment(enrollment("SENSOR-1", etag())))
                .isInstanceOf(DuplicateKeyException.class);
    }

    @Test
    default void replaceEnrollment_currentEtag_replacesTheDocument() {
        String first = etag();
        enrollments().insertEnrollment(enrollment("sensor-1", first));
        IndividualEnrollment next = enrollment("sensor-1", etag()).withAttestation(
                AttestationMechanism.symmetricKey(KEY_2, KEY_1));

        enrollments().replaceEnrollment(next, first);

        assertThat(enrollments().findEnrollment("sensor-1")).contains(next);
    }

    @Test
    default void replaceEnrollment_staleEtag_throwsAndKeepsTheDocument() {
        IndividualEnrollment original = enrollment("sensor-1", etag());
        enrollments().insertEnrollment(original);

        assertThatThrownBy(() -> enrollments().replaceEnrollment(enrollment("sensor-1", etag()), etag()))
                .isInstanceOf(StaleVersionException.class);
        assertThat(enrollments().findEnrollment("sensor-1")).contains(original);
    }

    @Test
    default void replaceEnrollment_absent_throwsStaleVersion() {
        assertThatThrownBy(() -> enrollments().replaceEnrollment(enrollment("ghost", etag()), etag()))
                .isInstanceOf(StaleVersionException.class);
    }

    @Test
    default void deleteEnrollment_absent_returnsFalse() {
        assertThat(enrollments().deleteEnrollment("ghost", null)).isFalse();
        assertThat(enrollments().deleteEnrollment("ghost", etag())).isFalse();
    }

    @Test
    default void deleteEnrollment_matchingOrNoEtag_deletes() {
        String etag = etag();
        enrollments().insertEnrollment(enrollment("sensor-1", etag));
        enrollments().insertEnrollment(enrollment("sensor-2", etag()));

        assertThat(enrollments().deleteEnrollment("SENSOR-1", etag)).isTrue();
        assertThat(enrollments().deleteEnrollment("sensor-2", null)).isTrue();
        assertThat(enrollments().findEnrollment("sensor-1")).isEmpty();
        assertThat(enrollments().findEnrollment("sensor-2")).isEmpty();
    }

    @Test
    default void deleteEnrollment_staleEtag_throwsAndKeepsTheDocument() {
        enrollments().insertEnrollment(enrollment("sensor-1", etag()));

        assertThatThrownBy(() -> enrollments().deleteEnrollment("sensor-1", etag()))
                .isInstanceOf(StaleVersionException.class);
        assertThat(enrollments().findEnrollment("sensor-1")).isPresent();
    }

    @Test
    default void deleteEnrollment_existingRecord_deletesTheRegistrationRecordToo() {
        enrollments().insertEnrollment(enrollment("sensor-1", etag()));
        saveRecord(registrations(), "sensor-1", null);
        saveRecord(registrations(), "sensor-2", null);

        enrollments().deleteEnrollment("Sensor-1", null);

        assertThat(registrations().find("sensor-1")).isEmpty();
        assertThat(registrations().find("sensor-2")).isPresent();
    }

    @Test
    default void listEnrollments_afterKey_pagesInIdKeyOrder() {
        for (String id : List.of("c-3", "A-1", "b-2", "d-4", "E-5")) {
            enrollments().insertEnrollment(enrollment(id, etag()));
        }

        List<String> first = enrollments().listEnrollments(null, 2).stream()
                .map(IndividualEnrollment::registrationId).toList();
        List<String> second = enrollments().listEnrollments("b-2", 2).stream()
                .map(IndividualEnrollment::registrationId).toList();
        List<String> last = enrollments().listEnrollments("d-4", 2).stream()
                .map(IndividualEnrollment::registrationId).toList();

        assertThat(first).containsExactly("A-1", "b-2");
        assertThat(second).containsExactly("c-3", "d-4");
        assertThat(last).containsExactly("E-5");
        assertThat(enrollments().listEnrollments("e-5", 2)).isEmpty();
    }

    @Test
    default void insertGroup_thenFind_returnsTheSameDocument() {
        EnrollmentGroup stored = group("Line-3", etag());

        enrollments().insertGroup(stored);

        assertThat(enrollments().findGroup("line-3")).contains(stored);
        assertThat(enrollments().findEnrollment("line-3")).as("groups and enrollments are separate").isEmpty();
    }

    @Test
    default void insertGroup_sameIdOtherCase_throwsDuplicateKey() {
        enrollments().insertGroup(group("grp-1", etag()));

        assertThatThrownBy(() -> enrollments().insertGroup(group("GRP-1", etag())))
                .isInstanceOf(DuplicateKeyException.class);
    }

    @Test
    default void replaceGroup_currentOrStaleEtag_replacesOrThrows() {
        String first = etag();
        enrollments().insertGroup(group("grp-1", first));
        EnrollmentGroup next = group("grp-1", etag()).withAttestation(AttestationMechanism.symmetricKey(KEY_2, KEY_1));

        enrollments().replaceGroup(next, first);

        assertThat(enrollments().findGroup("grp-1")).contains(next);
        assertThatThrownBy(() -> enrollments().replaceGroup(group("grp-1", etag()), first))
                .isInstanceOf(StaleVersionException.class);
        assertThat(enrollments().findGroup("grp-1")).contains(next);
    }

    @Test
    default void deleteGroup_etagRules_matchDeleteEnrollment() {
        String etag = etag();
        enrollments().insertGroup(group("grp-1", etag));

        assertThat(enrollments().deleteGroup("ghost", null)).isFalse();
        assertThatThrownBy(() -> enrollments().deleteGroup("grp-1", etag()))
                .isInstanceOf(StaleVersionException.class);
        assertThat(enrollments().deleteGroup("GRP-1", etag)).isTrue();
        assertThat(enrollments().findGroup("grp-1")).isEmpty();
    }

    @Test
    default void deleteGroup_memberRecords_stay() {
        enrollments().insertGroup(group("grp-1", etag()));
        saveRecord(registrations(), "member-1", "grp-1");
        saveRecord(registrations(), "member-2", "grp-1");

        enrollments().deleteGroup("grp-1", null);

        assertThat(registrations().find("member-1")).isPresent();
        assertThat(registrations().find("member-2")).isPresent();
    }

    @Test
    default void groups_all_inIdKeyOrder() {
        for (String id : List.of("b", "C", "a")) {
            enrollments().insertGroup(group(id, etag()));
        }

        assertThat(enrollments().groups()).extracting(EnrollmentGroup::enrollmentGroupId).containsExactly("a", "b", "C");
        assertThat(enrollments().listGroups("a", 1)).extracting(EnrollmentGroup::enrollmentGroupId).containsExactly("b");
    }
}
