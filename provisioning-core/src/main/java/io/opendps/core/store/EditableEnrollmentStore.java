package io.opendps.core.store;

import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Write port for enrollments, used by the administration side. Conditional writes compare the stored etag;
 * the caller supplies the new etag inside the document.
 */
public interface EditableEnrollmentStore extends EnrollmentStore {

    /** Inserts; throws {@link DuplicateKeyException} when the id exists. */
    void insertEnrollment(IndividualEnrollment enrollment);

    /**
     * Inserts several enrollments in one transaction (bulk import). An enrollment whose id already exists is
     * skipped, not an error for the others; the result holds the ids (as given) that were skipped for that reason.
     * Every other enrollment is stored when this returns; on a store failure none is.
     */
    Set<String> insertEnrollments(List<IndividualEnrollment> enrollments);

    /** Replaces the stored document whose etag is {@code expectedEtag}; otherwise {@link StaleVersionException}. */
    void replaceEnrollment(IndividualEnrollment enrollment, String expectedEtag);

    /**
     * Deletes the enrollment (and its registration record) when present and, if {@code expectedEtag} is not null,
     * matching. Returns false when absent; throws {@link StaleVersionException} on an etag mismatch.
     */
    boolean deleteEnrollment(String registrationId, @Nullable String expectedEtag);

    /** A page of enrollments ordered by id key, strictly after {@code afterKey} when given. */
    List<IndividualEnrollment> listEnrollments(@Nullable String afterKey, int limit);

    /** Inserts; throws {@link DuplicateKeyException} when the id exists. */
    void insertGroup(EnrollmentGroup group);

    /** Replaces the stored document whose etag is {@code expectedEtag}; otherwise {@link StaleVersionException}. */
    void replaceGroup(EnrollmentGroup group, String expectedEtag);

    /** Deletes the group (member registration records stay). Same contract as {@link #deleteEnrollment}. */
    boolean deleteGroup(String groupId, @Nullable String expectedEtag);

    /** A page of groups ordered by id key, strictly after {@code afterKey} when given. */
    List<EnrollmentGroup> listGroups(@Nullable String afterKey, int limit);
}
