package io.opendps.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opendps.core.service.AccessPolicy;
import io.opendps.core.service.AccessRight;
import io.opendps.core.service.StoredAccessPolicy;
import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What every {@link EditableSettingsStore} promises about shared access policies: case-insensitive key names,
 * etag-conditional writes, and the invariant that the last policy holding {@code ServiceConfig} can be neither
 * deleted nor stripped of it. A store's test class implements this interface and supplies a fresh, empty store.
 */
public interface SettingsStoreContract {

    Instant T0 = Instant.parse("2024-05-01T10:00:00.123456789Z");
    Instant T1 = Instant.parse("2024-05-02T11:30:00Z");
    String KEY_1 = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";
    String KEY_2 = "Z3JvdXAtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";

    /** The store under test, empty. */
    EditableSettingsStore settings();

    static StoredAccessPolicy policy(String name, String etag, Set<AccessRight> rights) {
        return new StoredAccessPolicy(new AccessPolicy(name, KEY_1, KEY_2, rights), etag, T0, T0);
    }

    static StoredAccessPolicy admin(String name, String etag) {
        return policy(name, etag, EnumSet.allOf(AccessRight.class));
    }

    static StoredAccessPolicy reader(String name, String etag) {
        return policy(name, etag, Set.of(AccessRight.ENROLLMENT_READ));
    }

    @Test
    default void insertPolicy_thenFind_ignoresCaseAndKeepsEverything() {
        StoredAccessPolicy stored = admin("Ops-Admin", "\"e-1\"");

        settings().insertPolicy(stored);

        assertThat(settings().findPolicy("ops-admin")).contains(stored);
        assertThat(settings().findPolicy("OPS-ADMIN").orElseThrow().keyName()).isEqualTo("Ops-Admin");
        assertThat(settings().findPolicy("nobody")).isEmpty();
    }

    @Test
    default void insertPolicy_sameNameOtherCase_isDuplicate() {
        settings().insertPolicy(admin("ops", "\"e-1\""));

        assertThatThrownBy(() -> settings().insertPolicy(reader("OPS", "\"e-2\"")))
                .isInstanceOf(DuplicateKeyException.class);
        assertThat(settings().findPolicy("ops").orElseThrow().etag()).isEqualTo("\"e-1\"");
    }

    @Test
    default void storedPoliciesAndPolicies_areOrderedByNameIgnoringCase() {
        settings().insertPolicy(reader("b-reader", "\"e-1\""));
        settings().insertPolicy(admin("A-admin", "\"e-2\""));
        settings().insertPolicy(reader("c-reader", "\"e-3\""));

        assertThat(settings().storedPolicies()).extracting(StoredAccessPolicy::keyName)
                .containsExactly("A-admin", "b-reader", "c-reader");
        assertThat(settings().policies()).extracting(AccessPolicy::keyName)
                .containsExactly("A-admin", "b-reader", "c-reader");
    }

    @Test
    default void policyIfAbsent_existingNameOtherCase_returnsTheStoredPolicy() {
        settings().insertPolicy(admin("owner", "\"e-1\""));

        AccessPolicy returned = settings().policyIfAbsent(new AccessPolicy("OWNER", KEY_2, KEY_1, Set.of()));

        assertThat(returned).isEqualTo(settings().findPolicy("owner").orElseThrow().policy());
        assertThat(settings().policies()).hasSize(1);
    }

    @Test
    default void policyIfAbsent_newName_isStoredWithEtagAndTimestamps() {
        AccessPolicy owner = AccessPolicy.newOwner();

        assertThat(settings().policyIfAbsent(owner)).isEqualTo(owner);

        StoredAccessPolicy stored = settings().findPolicy(AccessPolicy.OWNER).orElseThrow();
        assertThat(stored.policy()).isEqualTo(owner);
        assertThat(stored.etag()).matches("\"[0-9a-f-]{36}\"");
        assertThat(stored.updated()).isEqualTo(stored.created());
    }

    @Test
    default void replacePolicy_matchingEtag_replaces_staleEtag_isStaleVersion() {
        settings().insertPolicy(admin("admin", "\"e-1\""));
        settings().insertPolicy(reader("reader", "\"e-2\""));
        StoredAccessPolicy changed = new StoredAccessPolicy(new AccessPolicy("Reader", KEY_2, KEY_1,
                Set.of(AccessRight.ENROLLMENT_WRITE, AccessRight.DEVICE_CONNECT)), "\"e-3\"", T0, T1);

        settings().replacePolicy(changed, "\"e-2\"");

        assertThat(settings().findPolicy("reader")).contains(changed);
        assertThatThrownBy(() -> settings().replacePolicy(reader("reader", "\"e-4\""), "\"e-2\""))
                .isInstanceOf(StaleVersionException.class);
        assertThat(settings().findPolicy("reader")).contains(changed);
    }

    @Test
    default void replacePolicy_absent_isStaleVersion() {
        settings().insertPolicy(admin("admin", "\"e-1\""));

        assertThatThrownBy(() -> settings().replacePolicy(reader("ghost", "\"e-2\""), "\"e-1\""))
                .isInstanceOf(StaleVersionException.class);
        assertThat(settings().findPolicy("ghost")).isEmpty();
    }

    @Test
    default void deletePolicy_etagRules() {
        settings().insertPolicy(admin("admin", "\"e-1\""));
        settings().insertPolicy(reader("reader", "\"e-2\""));

        assertThatThrownBy(() -> settings().deletePolicy("READER", "\"other\""))
                .isInstanceOf(StaleVersionException.class);
        assertThat(settings().findPolicy("reader")).isPresent();
        assertThat(settings().deletePolicy("READER", "\"e-2\"")).isTrue();
        assertThat(settings().findPolicy("reader")).isEmpty();
        assertThat(settings().deletePolicy("reader", null)).isFalse();
        assertThat(settings().deletePolicy("reader", "\"e-2\"")).isFalse();
    }

    @Test
    default void deletePolicy_lastServiceConfig_isRefusedAndKept() {
        StoredAccessPolicy admin = admin("admin", "\"e-1\"");
        settings().insertPolicy(admin);
        settings().insertPolicy(reader("reader", "\"e-2\""));

        assertThatThrownBy(() -> settings().deletePolicy("admin", null)).isInstanceOf(PolicyLockoutException.class);

        assertThat(settings().findPolicy("admin")).contains(admin);
    }

    @Test
    default void deletePolicy_anotherServiceConfigLeft_isAllowed() {
        settings().insertPolicy(admin("admin-1", "\"e-1\""));
        settings().insertPolicy(policy("admin-2", "\"e-2\"", Set.of(AccessRight.SERVICE_CONFIG)));

        assertThat(settings().deletePolicy("admin-1", null)).isTrue();

        assertThatThrownBy(() -> settings().deletePolicy("admin-2", null))
                .isInstanceOf(PolicyLockoutException.class);
        assertThat(settings().storedPolicies()).extracting(StoredAccessPolicy::keyName).containsExactly("admin-2");
    }

    @Test
    default void replacePolicy_removingTheLastServiceConfig_isRefusedAndUnchanged() {
        StoredAccessPolicy admin = admin("admin", "\"e-1\"");
        settings().insertPolicy(admin);

        assertThatThrownBy(() -> settings().replacePolicy(reader("admin", "\"e-2\""), "\"e-1\""))
                .isInstanceOf(PolicyLockoutException.class);

        assertThat(settings().findPolicy("admin")).contains(admin);
    }

    @Test
    default void replacePolicy_removingServiceConfig_withAnotherLeft_isAllowed() {
        settings().insertPolicy(admin("admin-1", "\"e-1\""));
        settings().insertPolicy(admin("admin-2", "\"e-2\""));

        settings().replacePolicy(reader("admin-1", "\"e-3\""), "\"e-1\"");

        assertThat(settings().findPolicy("admin-1").orElseThrow().isAdministrator()).isFalse();
        assertThatThrownBy(() -> settings().replacePolicy(reader("admin-2", "\"e-4\""), "\"e-2\""))
                .isInstanceOf(PolicyLockoutException.class);
        assertThat(settings().findPolicy("admin-2").orElseThrow().isAdministrator()).isTrue();
    }
}
