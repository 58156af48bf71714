package io.opendps.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.EnrollmentRef;
import io.opendps.core.registration.GroupReference;
import io.opendps.core.registration.RegistrationOperation;
import io.opendps.core.registration.RegistrationOperationStatus;
import io.opendps.core.registration.RegistrationStatus;
import io.opendps.core.registration.Substatus;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * What every {@link RegistrationStore} promises. A store's test class implements this interface and supplies a
 * fresh, empty store per test.
 */
public interface RegistrationStoreContract {

    Instant T0 = Instant.parse("2024-05-01T10:00:00.1234567Z");

    /** The store under test, empty. */
    RegistrationStore registrations();

    static DeviceRegistrationState assigned(String registrationId, String hub, String etag, Instant at) {
        return new DeviceRegistrationState(registrationId, T0, hub, registrationId, RegistrationStatus.ASSIGNED,
                Substatus.INITIAL_ASSIGNMENT, null, null, at, etag, GroupReference.INDIVIDUAL,
                EnrollmentStoreContract.json("{\"fwChannel\":\"beta\"}"));
    }

    static RegistrationOperation operation(String operationId, DeviceRegistrationState state, Instant at) {
        return new RegistrationOperation(operationId, state.registrationId(),
                EnrollmentRef.individual(state.registrationId()), at,
                new RegistrationOperationStatus(operationId, state.status(), state));
    }

    static DeviceRegistrationState member(String registrationId, String groupId) {
        return new DeviceRegistrationState(registrationId, T0, "hub-a", registrationId, RegistrationStatus.ASSIGNED,
                Substatus.INITIAL_ASSIGNMENT, null, null, T0, "etag-" + registrationId, new GroupReference(groupId),
                null);
    }

    @Test
    default void listByGroup_pagesInIdOrder_caseInsensitiveGroup_onlyThatGroup() {
        for (String id : new String[] {"dev-c", "dev-a", "DEV-B"}) {
            registrations().saveAttempt(member(id, "Fleet"), operation("op-" + id, member(id, "Fleet"), T0));
        }
        DeviceRegistrationState other = member("dev-x", "other-fleet");
        registrations().saveAttempt(other, operation("op-x", other, T0));
        DeviceRegistrationState individual = assigned("dev-i", "hub-a", "e-i", T0);
        registrations().saveAttempt(individual, operation("op-i", individual, T0));

        assertThat(registrations().listByGroup("fleet", null, 10))
                .extracting(DeviceRegistrationState::registrationId).containsExactly("dev-a", "DEV-B", "dev-c");
        assertThat(registrations().listByGroup("FLEET", null, 2))
                .extracting(DeviceRegistrationState::registrationId).containsExactly("dev-a", "DEV-B");
        assertThat(registrations().listByGroup("fleet", "dev-b", 10))
                .extracting(DeviceRegistrationState::registrationId).containsExactly("dev-c");
        assertThat(registrations().listByGroup("no-such-group", null, 10)).isEmpty();
    }

    @Test
    default void find_absent_isEmpty() {
        assertThat(registrations().find("nobody")).isEmpty();
        assertThat(registrations().findOperation("1.0.none")).isEmpty();
    }

    @Test
    default void saveAttempt_thenFind_returnsRecordAndOperation() {
        DeviceRegistrationState state = assigned("My-Device-01", "hub-a.azure-devices.net", "ZTE=", T0);
        RegistrationOperation op = operation("1.abc.op-1", state, T0);

        registrations().saveAttempt(state, op);

        assertThat(registrations().find("my-device-01")).contains(state);
        assertThat(registrations().find("MY-DEVICE-01")).contains(state);
        assertThat(registrations().findOperation("1.abc.op-1")).contains(op);
    }

    @Test
    default void saveAttempt_again_replacesTheRecordAndKeepsBothOperations() {
        DeviceRegistrationState first = assigned("d1", "hub-a.azure-devices.net", "ZTE=", T0);
        DeviceRegistrationState second = assigned("d1", "hub-b.azure-devices.net", "ZTI=", T0.plusSeconds(60));
        registrations().saveAttempt(first, operation("op-1", first, T0));

        registrations().saveAttempt(second, operation("op-2", second, T0.plusSeconds(60)));

        assertThat(registrations().find("d1")).contains(second);
        assertThat(registrations().findOperation("op-1").orElseThrow().result().registrationState()).isEqualTo(first);
        assertThat(registrations().findOperation("op-2").orElseThrow().result().registrationState())
                .isEqualTo(second);
    }

    @Test
    default void saveAttempt_duplicateOperationId_throwsAndLeavesTheRecordUntouched() {
        DeviceRegistrationState first = assigned("d1", "hub-a.azure-devices.net", "ZTE=", T0);
        DeviceRegistrationState second = assigned("d1", "hub-b.azure-devices.net", "ZTI=", T0.plusSeconds(60));
        registrations().saveAttempt(first, operation("op-1", first, T0));

        assertThatThrownBy(() -> registrations().saveAttempt(second, operation("op-1", second, T0)))
                .isInstanceOf(DuplicateKeyException.class);
        assertThat(registrations().find("d1")).as("record and operation are one transaction").contains(first);
    }

    @Test
    default void delete_etagRules_absentMatchingStale() {
        DeviceRegistrationState state = assigned("d1", "hub-a.azure-devices.net", "ZTE=", T0);
        registrations().saveAttempt(state, operation("op-1", state, T0));

        assertThat(registrations().delete("ghost", null)).isFalse();
        assertThatThrownBy(() -> registrations().delete("d1", "b3RoZXI=")).isInstanceOf(StaleVersionException.class);
        assertThat(registrations().find("d1")).isPresent();
        assertThat(registrations().delete("D1", "ZTE=")).isTrue();
        assertThat(registrations().find("d1")).isEmpty();
        assertThat(registrations().delete("d1", null)).isFalse();
    }

    @Test
    default void delete_noEtag_deletes() {
        DeviceRegistrationState state = assigned("d1", "hub-a.azure-devices.net", "ZTE=", T0);
        registrations().saveAttempt(state, operation("op-1", state, T0));

        assertThat(registrations().delete("d1", null)).isTrue();
        assertThat(registrations().find("d1")).isEmpty();
    }

    @Test
    default void purgeOperationsBefore_cutoff_removesOnlyOlderOperations() {
        DeviceRegistrationState state = assigned("d1", "hub-a.azure-devices.net", "ZTE=", T0);
        registrations().saveAttempt(state, operation("old", state, T0));
        registrations().saveAttempt(state, operation("new", state, T0.plus(Duration.ofHours(2))));

        int purged = registrations().purgeOperationsBefore(T0.plus(Duration.ofHours(1)));

        assertThat(purged).isEqualTo(1);
        assertThat(registrations().findOperation("old")).isEmpty();
        assertThat(registrations().findOperation("new")).isPresent();
        assertThat(registrations().find("d1")).as("records are not operations").isPresent();
    }
}
