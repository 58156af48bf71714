package io.opendps.core.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.store.jdbc.DatabaseOptions;
import io.opendps.core.store.jdbc.JdbcDatabase;
import io.opendps.core.store.jdbc.JdbcSettingsStore;
import java.nio.file.Path;
import java.util.Base64;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceIdentityTest {

    @TempDir
    Path dir;

    private ServiceIdentity loadFromFreshConnection() {
        try (JdbcDatabase db = JdbcDatabase.open(DatabaseOptions.h2File(dir))) {
            return ServiceIdentity.loadOrCreate(new JdbcSettingsStore(db));
        }
    }

    @Test
    void loadOrCreate_firstStart_createsScopeAndOwnerPolicy() {
        ServiceIdentity identity = loadFromFreshConnection();

        assertThat(identity.idScope()).matches("^0ne[0-9A-F]{8}$");
        assertThat(identity.owner().keyName()).isEqualTo(AccessPolicy.OWNER);
        assertThat(identity.owner().rights()).isEqualTo(EnumSet.allOf(AccessRight.class));
        assertThat(Base64.getDecoder().decode(identity.owner().primaryKey())).hasSize(64);
        assertThat(identity.owner().secondaryKey()).hasSize(88).isNotEqualTo(identity.owner().primaryKey());
    }

    @Test
    void loadOrCreate_reopen_returnsTheSameIdentity() {
        ServiceIdentity first = loadFromFreshConnection();

        ServiceIdentity second = loadFromFreshConnection();
        ServiceIdentity third = loadFromFreshConnection();

        assertThat(second.idScope()).isEqualTo(first.idScope());
        assertThat(second.owner().primaryKey()).isEqualTo(first.owner().primaryKey());
        assertThat(second.owner().secondaryKey()).isEqualTo(first.owner().secondaryKey());
        assertThat(third).isEqualTo(first);
    }

    @Test
    void loadOrCreate_storedPolicies_holdExactlyOneOwner() {
        ServiceIdentity identity = loadFromFreshConnection();
        loadFromFreshConnection();

        try (JdbcDatabase db = JdbcDatabase.open(DatabaseOptions.h2File(dir))) {
            assertThat(new JdbcSettingsStore(db).policies()).containsExactly(identity.owner());
            assertThat(new JdbcSettingsStore(db).setting("idScope")).contains(identity.idScope());
        }
    }

    @Test
    void loadOrCreate_ownerDeletedThroughTheApi_staysDeletedAndAnotherAdministratorIsUsed() {
        ServiceIdentity first = loadFromFreshConnection();
        try (JdbcDatabase db = JdbcDatabase.open(DatabaseOptions.h2File(dir))) {
            AccessPolicyService service = new AccessPolicyService(new JdbcSettingsStore(db), AccessPolicyListener.NONE,
                    java.time.Clock.systemUTC());
            service.put("ops", AccessPolicyRequest.of("ServiceConfig, EnrollmentRead", null, null), null, "test");
            service.put("reader", AccessPolicyRequest.of("EnrollmentRead", null, null), null, "test");
            service.delete(AccessPolicy.OWNER, null, "test");
        }

        ServiceIdentity second = loadFromFreshConnection();

        assertThat(second.idScope()).isEqualTo(first.idScope());
        assertThat(second.owner().keyName()).isEqualTo("ops");
        try (JdbcDatabase db = JdbcDatabase.open(DatabaseOptions.h2File(dir))) {
            assertThat(new JdbcSettingsStore(db).policies()).extracting(AccessPolicy::keyName)
                    .containsExactly("ops", "reader");
        }
    }

    @Test
    void newIdScope_manyScopes_matchTheAzureShape() {
        for (int i = 0; i < 200; i++) {
            assertThat(ServiceIdentity.newIdScope()).matches("^0ne[0-9A-F]{8}$");
        }
    }

    @Test
    void toString_policy_showsNoKeys() {
        AccessPolicy owner = AccessPolicy.newOwner();

        assertThat(owner.toString()).doesNotContain(owner.primaryKey(), owner.secondaryKey())
                .contains(AccessPolicy.OWNER);
    }
}
