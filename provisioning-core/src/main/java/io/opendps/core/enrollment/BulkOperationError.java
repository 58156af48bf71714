package io.opendps.core.enrollment;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.opendps.core.error.ErrorCode;
import org.jspecify.annotations.Nullable;

/**
 * One failed item of a bulk operation ({@code DeviceRegistrationOperationError} /
 * {@code EnrollmentGroupOperationError} of {@code dps-service-api.md} §7): the item's id ({@code registrationId}
 * for enrollments, {@code enrollmentGroupId} for groups; the other is absent), the six-digit {@code errorCode} and
 * the message ({@code errorStatus}) a single call for that item would have answered.
 */
@JsonPropertyOrder({"registrationId", "enrollmentGroupId", "errorCode", "errorStatus"})
public record BulkOperationError(@Nullable String registrationId, @Nullable String enrollmentGroupId, int errorCode,
        String errorStatus) {

    /** The error of an individual enrollment item. */
    public static BulkOperationError forEnrollment(String registrationId, ErrorCode code, String message) {
        return new BulkOperationError(registrationId, null, code.code(), message);
    }

    /** The error of an enrollment group item. */
    public static BulkOperationError forGroup(String enrollmentGroupId, ErrorCode code, String message) {
        return new BulkOperationError(null, enrollmentGroupId, code.code(), message);
    }

    /** The failed item's id, whichever kind it is. */
    public String id() {
        return registrationId != null ? registrationId : enrollmentGroupId == null ? "" : enrollmentGroupId;
    }
}
