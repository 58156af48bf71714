package io.opendps.core.registration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.opendps.core.enrollment.Page;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.json.Json;
import io.opendps.core.store.jdbc.JdbcRegistrationStore;
import io.opendps.core.testing.TestDatabase;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RegistrationRecordServiceTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private TestDatabase database;
    private JdbcRegistrationStore store;
    private RegistrationRecordService service;

    @BeforeEach
    void setUp() {
        database = TestDatabase.inMemory();
        store = new JdbcRegistrationStore(database.db());
        service = new RegistrationRecordService(store);
    }

    @AfterEach
    void tearDown() {
        database.close();
    }

    private DeviceRegistrationState save(String id, String groupId, String etag) {
        DeviceRegistrationState s = new DeviceRegistrationState(id, T0, "hub-a", id, RegistrationStatus.ASSIGNED,
                Substatus.INITIAL_ASSIGNMENT, null, null, T0, etag,
                groupId == null ? GroupReference.INDIVIDUAL : new GroupReference(groupId), null);
        store.saveAttempt(s, new RegistrationOperation("op-" + id + "-" + etag, id, groupId == null
                ? EnrollmentRef.individual(id) : EnrollmentRef.group(groupId), T0,
                new RegistrationOperationStatus("op", s.status(), s)));
        return s;
    }

    private static ProvisioningException rejected(ErrorCode code, Runnable call) {
        ProvisioningException e = catchThrowableOfType(ProvisioningException.class, call::run);
        assertThat(e).as("expected %s", code).isNotNull();
        assertThat(e.code()).isEqualTo(code);
        return e;
    }

    @Test
    void get_registeredDevice_returnsTheServiceView() {
        save("dev-1", "grp", "e1");

        DeviceRegistrationState got = service.get("DEV-1");

        assertThat(got.registrationId()).isEqualTo("dev-1");
        assertThat(got.assignedHub()).isEqualTo("hub-a");
        assertThat(got.symmetricKey()).isNull();
        assertThat(Json.toText(got)).doesNotContain("symmetricKey").doesNotContain("enrollmentGroupId");
    }

    @Test
    void get_unknown_is404202WithAMessage() {
        ProvisioningException e = rejected(ErrorCode.REGISTRATION_NOT_FOUND, () -> service.get("nobody"));

        assertThat(e.code().code()).isEqualTo(404202);
        assertThat(e).hasMessageContaining("no registration record for 'nobody'");
    }

    @Test
    void delete_withoutIfMatch_deletes_thenIs404() {
        save("dev-1", null, "e1");

        service.delete("dev-1", null);

        assertThat(store.find("dev-1")).isEmpty();
        rejected(ErrorCode.REGISTRATION_NOT_FOUND, () -> service.delete("dev-1", null));
    }

    @Test
    void delete_ifMatchRules_currentStarAndStale() {
        save("dev-1", null, "\"e1\"");
        save("dev-2", null, "\"e2\"");

        rejected(ErrorCode.REGISTRATION_PRECONDITION_FAILED, () -> service.delete("dev-1", "\"stale\""));
        assertThat(store.find("dev-1")).isPresent();

        service.delete("dev-1", "e1");
        service.delete("dev-2", "*");

        assertThat(store.find("dev-1")).isEmpty();
        assertThat(store.find("dev-2")).isEmpty();
        rejected(ErrorCode.REGISTRATION_NOT_FOUND, () -> service.delete("dev-3", "\"e3\""));
    }

    @Test
    void queryGroup_pagesWithContinuationUntilTheLastPage() {
        for (int i = 0; i < 5; i++) {
            save("dev-" + i, "fleet", "e" + i);
        }
        save("loner", null, "e");

        List<String> seen = new ArrayList<>();
        String continuation = null;
        int pages = 0;
        do {
            Page<DeviceRegistrationState> page = service.queryGroup("FLEET", 2, continuation);
            page.items().forEach(s -> seen.add(s.registrationId()));
            continuation = page.continuation();
            pages++;
        } while (continuation != null);

        assertThat(pages).isEqualTo(3);
        assertThat(seen).containsExactly("dev-0", "dev-1", "dev-2", "dev-3", "dev-4");
    }

    @Test
    void queryGroup_badContinuation_is400() {
        rejected(ErrorCode.INVALID_ARGUMENT, () -> service.queryGroup("fleet", 2, "!!not-a-token!!"));
    }
}
