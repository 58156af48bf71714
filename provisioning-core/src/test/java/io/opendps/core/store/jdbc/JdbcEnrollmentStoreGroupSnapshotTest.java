package io.opendps.core.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.opendps.core.enrollment.AttestationMechanism;
import io.opendps.core.enrollment.DeviceCapabilities;
import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.ProvisioningStatus;
import io.opendps.core.store.StaleVersionException;
import io.opendps.core.testing.TestDatabase;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The in-memory group snapshot behind {@link JdbcEnrollmentStore#groups()}: reuse, invalidation, TTL. */
@Timeout(30)
class JdbcEnrollmentStoreGroupSnapshotTest {

    private static final String KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    private TestDatabase database;
    private JdbcEnrollmentStore store;

    @BeforeEach
    void open() {
        database = TestDatabase.inMemory();
        store = new JdbcEnrollmentStore(database.db(), Duration.ofHours(1));
    }

    @AfterEach
    void close() {
        database.close();
    }

    private static EnrollmentGroup group(String id, String etag, ProvisioningStatus status) {
        return new EnrollmentGroup(id, AttestationMechanism.symmetricKey(KEY, KEY), DeviceCapabilities.NONE, null,
                null, etag, status, null, null, null, null, null, null);
    }

    private static EnrollmentGroup group(String id) {
        return group(id, UUID.randomUUID().toString(), ProvisioningStatus.ENABLED);
    }

    @Test
    void repeatedReadsUseOneQuery() {
        for (int i = 0; i < 500; i++) {
            store.insertGroup(group(String.format("g-%03d", i)));
        }
        long before = database.db().transactionCount();
        assertThat(store.groups()).hasSize(500);
        assertThat(database.db().transactionCount() - before).isEqualTo(1);
        for (int i = 0; i < 100; i++) {
            assertThat(store.groups()).hasSize(500);
        }
        assertThat(database.db().transactionCount() - before).isEqualTo(1);
        assertThatThrownBy(() -> store.groups().add(group("x"))).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void insertReplaceAndDeleteInvalidateAtOnce() {
        store.insertGroup(group("a"));
        assertThat(store.groups()).extracting(EnrollmentGroup::enrollmentGroupId).containsExactly("a");

        store.insertGroup(group("b"));
        assertThat(store.groups()).extracting(EnrollmentGroup::enrollmentGroupId).containsExactly("a", "b");

        EnrollmentGroup current = store.findGroup("a").orElseThrow();
        store.replaceGroup(group("a", "etag-2", ProvisioningStatus.DISABLED), current.etag());
        assertThat(store.groups()).filteredOn(g -> "a".equals(g.enrollmentGroupId()))
                .extracting(EnrollmentGroup::enabled).containsExactly(false);

        assertThat(store.deleteGroup("b", null)).isTrue();
        assertThat(store.groups()).extracting(EnrollmentGroup::enrollmentGroupId).containsExactly("a");
    }

    @Test
    void failedWriteLeavesACorrectSnapshot() {
        store.insertGroup(group("a", "etag-1", ProvisioningStatus.ENABLED));
        assertThat(store.groups()).hasSize(1);
        assertThatThrownBy(() -> store.replaceGroup(group("a", "etag-3", ProvisioningStatus.DISABLED), "wrong"))
                .isInstanceOf(StaleVersionException.class);
        assertThat(store.groups()).extracting(EnrollmentGroup::enabled).containsExactly(true);
    }

    @Test
    void writesFromAnotherInstanceAreSeenAfterTheTtl() {
        JdbcEnrollmentStore shortLived = new JdbcEnrollmentStore(database.db(), Duration.ofMillis(200));
        JdbcEnrollmentStore otherNode = new JdbcEnrollmentStore(database.db());
        assertThat(shortLived.groups()).isEmpty();
        assertThat(store.groups()).isEmpty();

        otherNode.insertGroup(group("from-elsewhere"));

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(shortLived.groups())
                .extracting(EnrollmentGroup::enrollmentGroupId).containsExactly("from-elsewhere"));
        // the hour-long TTL store still serves its snapshot: the documented staleness bound
        assertThat(store.groups()).isEmpty();
    }

    @Test
    void zeroTtlReadsEveryTime() {
        JdbcEnrollmentStore uncached = new JdbcEnrollmentStore(database.db(), Duration.ZERO);
        long before = database.db().transactionCount();
        uncached.groups();
        uncached.groups();
        assertThat(database.db().transactionCount() - before).isEqualTo(2);
        assertThatThrownBy(() -> new JdbcEnrollmentStore(database.db(), Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
