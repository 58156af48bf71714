package io.opendps.core.store;

import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.HubMove;
import io.opendps.core.registration.RegistrationOperation;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Registration records and registration operations. Both live in the store so that any process sharing it can
 * answer a poll, also after a restart. Thread-safe and synchronous.
 */
public interface RegistrationStore {

    /** The record of this registration id (case-insensitive). */
    Optional<DeviceRegistrationState> find(String registrationId);

    /** Saves the record (insert or replace) and the operation of the attempt, in one transaction; no hub move. */
    default void saveAttempt(DeviceRegistrationState state, RegistrationOperation operation) {
        saveAttempt(state, operation, null);
    }

    /**
     * Saves the record (insert or replace), the hub move in progress ({@code null}: none) and the operation of the
     * attempt, in one transaction.
     */
    void saveAttempt(DeviceRegistrationState state, RegistrationOperation operation, @Nullable HubMove move);

    /**
     * Saves the record (insert or replace) and the operation (insert or replace: the outcome of an operation that
     * was saved {@code assigning} first), in one transaction; no hub move.
     */
    default void saveOutcome(DeviceRegistrationState state, RegistrationOperation operation) {
        saveOutcome(state, operation, null);
    }

    /** As {@link #saveOutcome(DeviceRegistrationState, RegistrationOperation)}, keeping {@code move} pending. */
    void saveOutcome(DeviceRegistrationState state, RegistrationOperation operation, @Nullable HubMove move);

    /** The hub move in progress for this registration id. */
    Optional<HubMove> findMove(String registrationId);

    /**
     * Marks the record so that the device's next registration re-runs allocation (operator's reprovision); false
     * when there is no record.
     */
    boolean requestReprovision(String registrationId);

    /** Whether the record is marked by {@link #requestReprovision}. */
    boolean reprovisionRequested(String registrationId);

    /** Removes the mark of {@link #requestReprovision} (the registration that honoured it). */
    void clearReprovisionRequest(String registrationId);

    /** Deletes the record; false when absent; {@link StaleVersionException} on an etag mismatch. */
    boolean delete(String registrationId, @Nullable String expectedEtag);

    /**
     * A page of the records of devices that registered through enrollment group {@code groupId} (case-insensitive),
     * ordered by registration id key, strictly after {@code afterKey} when given. Records outlive their group.
     */
    List<DeviceRegistrationState> listByGroup(String groupId, @Nullable String afterKey, int limit);

    /** The operation with this id. */
    Optional<RegistrationOperation> findOperation(String operationId);

    /** Removes operations created before {@code cutoff}; returns how many. */
    int purgeOperationsBefore(Instant cutoff);
}
