package io.opendps.core.store;

import io.opendps.core.enrollment.EnrollmentGroup;
import io.opendps.core.enrollment.IndividualEnrollment;
import java.util.List;
import java.util.Optional;

/**
 * Read port for enrollments, used by the registrar. Documents include key material. Ids are
 * case-insensitive. Implementations are thread-safe and synchronous: call them from a worker pool, never from
 * an event loop.
 */
public interface EnrollmentStore {

    /** The individual enrollment with this registration id. */
    Optional<IndividualEnrollment> findEnrollment(String registrationId);

    /** The enrollment group with this id. */
    Optional<EnrollmentGroup> findGroup(String groupId);

    /**
     * Every enrollment group, ordered by id key (the service allows at most a few hundred). Implementations may
     * serve an immutable snapshot (see {@code JdbcEnrollmentStore}); callers must not modify the documents.
     */
    List<EnrollmentGroup> groups();
}
