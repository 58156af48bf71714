package io.opendps.core.store.jdbc;

import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.store.EditableEnrollmentStore;
import io.opendps.core.store.Ids;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** Enrollments and enrollment groups in JDBC tables. Thread-safe; every call is one short transaction. */
public final class JdbcEnrollmentStore implements EditableEnrollmentStore {

    private static final int MAX_GROUPS = 10_000;

    private final JdbcDatabase db;
    private final DocumentTable<IndividualEnrollment> enrollments;
    private final DocumentTable<EnrollmentGroup> groups;

    public JdbcEnrollmentStore(JdbcDatabase db) {
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
        return groups.list(null, MAX_GROUPS);
    }

    @Override
    public void insertEnrollment(IndividualEnrollment enrollment) {
        enrollments.insert(id(enrollment.registrationId()), etag(enrollment.etag()), enrollment);
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
        groups.insert(id(group.enrollmentGroupId()), etag(group.etag()), group);
    }

    @Override
    public void replaceGroup(EnrollmentGroup group, String expectedEtag) {
        groups.replace(id(group.enrollmentGroupId()), etag(group.etag()), group, expectedEtag);
    }

    @Override
    public boolean deleteGroup(String groupId, @Nullable String expectedEtag) {
        return db.inTransaction("deleting enrollment group [" + groupId + "]",
                c -> groups.delete(c, groupId, expectedEtag));
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
