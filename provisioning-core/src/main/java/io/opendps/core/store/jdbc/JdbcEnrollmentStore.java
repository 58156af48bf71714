package io.opendps.core.store.jdbc;

import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.store.EditableEnrollmentStore;
import io.opendps.core.store.Ids;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Enrollments and enrollment groups in JDBC tables. Thread-safe; every call is one short transaction, except
 * {@link #groups()}, which is served from memory.
 *
 * <p>Group snapshot (decision, issue 7): a group device's registration needs the key material or CA references of
 * every group (a SAS token or a certificate chain does not name its group), and reading and parsing every group
 * document per registration made the cost of a registration grow with the number of groups. So {@link #groups()}
 * returns an immutable snapshot of all groups, loaded with one query and reused until either
 * <ul>
 *   <li>a group is inserted, replaced or deleted through this store (invalidated at once: the next call reloads),
 *       or</li>
 *   <li>the snapshot is older than the time to live ({@link #DEFAULT_GROUPS_TTL} unless configured). This is the
 *       staleness bound for writes this instance did not make, e.g. another node sharing the database: such a
 *       change is seen by registrations at most one TTL later. Within one server every write goes through the
 *       service layer into this store, so there it is never stale.</li>
 * </ul>
 * A snapshot loaded concurrently with a write is tagged with the generation it started from, so it is never kept
 * past that write. Groups are few (the service allows a few hundred; the snapshot holds up to 10,000), so the
 * snapshot is small; the documents in it are shared and must be treated as read-only by callers.
 */
public final class JdbcEnrollmentStore implements EditableEnrollmentStore {

    /** How long a group snapshot is trusted for changes made outside this store instance. */
    public static final Duration DEFAULT_GROUPS_TTL = Duration.ofSeconds(2);

    private static final int MAX_GROUPS = 10_000;

    private record GroupSnapshot(List<EnrollmentGroup> groups, long generation, long loadedNanos) {
    }

    private final long groupsTtlNanos;
    private final AtomicLong groupGeneration = new AtomicLong();
    private volatile @Nullable GroupSnapshot groupSnapshot;

    private final JdbcDatabase db;
    private final DocumentTable<IndividualEnrollment> enrollments;
    private final DocumentTable<EnrollmentGroup> groups;

    public JdbcEnrollmentStore(JdbcDatabase db) {
        this(db, DEFAULT_GROUPS_TTL);
    }

    /**
     * A store whose group snapshot is trusted for {@code groupsTtl} against changes made elsewhere ({@link
     * Duration#ZERO} reloads on every call).
     */
    public JdbcEnrollmentStore(JdbcDatabase db, Duration groupsTtl) {
        if (groupsTtl.isNegative()) {
            throw new IllegalArgumentException("groups TTL must not be negative: " + groupsTtl);
        }
        this.groupsTtlNanos = groupsTtl.toNanos();
        this.db = Objects.requireNonNull(db, "db");
        this.enrollments = new DocumentTable<>(db, "enrollment", IndividualEnrollment.class);
        this.groups = new DocumentTable<>(db, "enrollment_group", EnrollmentGroup.class);
    }

    @Override
    public Optional<IndividualEnrollment> findEnrollment(String registrationId) {
        return enrollments.find(registrationId);
    }

    @Override
    public Optional<EnrollmentGroup> findGroup(String groupId) {
        return groups.find(groupId);
    }

    @Override
    public List<EnrollmentGroup> groups() {
        GroupSnapshot snapshot = groupSnapshot;
        long generation = groupGeneration.get();
        long now = System.nanoTime();
        if (snapshot != null && snapshot.generation() == generation && now - snapshot.loadedNanos() < groupsTtlNanos) {
            return snapshot.groups();
        }
        List<EnrollmentGroup> loaded = List.copyOf(groups.list(null, MAX_GROUPS));
        groupSnapshot = new GroupSnapshot(loaded, generation, now);
        return loaded;
    }

    /** Drops the group snapshot: the next {@link #groups()} reads the table. */
    private void groupsChanged() {
        groupGeneration.incrementAndGet();
        groupSnapshot = null;
    }

    @Override
    public void insertEnrollment(IndividualEnrollment enrollment) {
        enrollments.insert(id(enrollment.registrationId()), etag(enrollment.etag()), enrollment);
    }

    @Override
    public Set<String> insertEnrollments(List<IndividualEnrollment> batch) {
        List<DocumentTable.Row<IndividualEnrollment>> rows = new ArrayList<>(batch.size());
        for (IndividualEnrollment e : batch) {
            rows.add(new DocumentTable.Row<>(id(e.registrationId()), etag(e.etag()), e));
        }
        return enrollments.insertAll(rows);
    }

    @Override
    public void replaceEnrollment(IndividualEnrollment enrollment, String expectedEtag) {
        enrollments.replace(id(enrollment.registrationId()), etag(enrollment.etag()), enrollment, expectedEtag);
    }

    @Override
    public boolean deleteEnrollment(String registrationId, @Nullable String expectedEtag) {
        return db.inTransaction("deleting enrollment [" + registrationId + "]", c -> {
            boolean deleted = enrollments.delete(c, registrationId, expectedEtag);
            if (deleted) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM registration WHERE id_key = ?")) {
                    ps.setString(1, Ids.key(registrationId));
                    ps.executeUpdate();
                }
            }
            return deleted;
        });
    }

    @Override
    public List<IndividualEnrollment> listEnrollments(@Nullable String afterKey, int limit) {
        return enrollments.list(afterKey, limit);
    }

    @Override
    public void insertGroup(EnrollmentGroup group) {
        try {
            groups.insert(id(group.enrollmentGroupId()), etag(group.etag()), group);
        } finally {
            groupsChanged();
        }
    }

    @Override
    public void replaceGroup(EnrollmentGroup group, String expectedEtag) {
        try {
            groups.replace(id(group.enrollmentGroupId()), etag(group.etag()), group, expectedEtag);
        } finally {
            groupsChanged();
        }
    }

    @Override
    public boolean deleteGroup(String groupId, @Nullable String expectedEtag) {
        try {
            return db.inTransaction("deleting enrollment group [" + groupId + "]",
                    c -> groups.delete(c, groupId, expectedEtag));
        } finally {
            groupsChanged();
        }
    }

    @Override
    public List<EnrollmentGroup> listGroups(@Nullable String afterKey, int limit) {
        return groups.list(afterKey, limit);
    }

    private static String id(@Nullable String id) {
        return Objects.requireNonNull(id, "document id");
    }

    private static String etag(@Nullable String etag) {
        return Objects.requireNonNull(etag, "document etag");
    }
}
