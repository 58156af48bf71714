package io.opendps.core.enrollment;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The body of {@code POST /enrollments} ({@code BulkEnrollmentOperation}, {@code dps-service-api.md} §7):
 * {@code {"mode": "create|update|updateIfMatchETag|delete", "enrollments": [IndividualEnrollment...]}}. Both fields
 * may be absent on input so that {@link BulkEnrollmentService} can refuse them with a message that names them;
 * {@code mode} stays text for the same reason ({@link BulkMode#parse}).
 *
 * @throws IllegalArgumentException when the list holds a JSON {@code null}
 */
@JsonPropertyOrder({"mode", "enrollments"})
public record BulkEnrollmentOperation(@Nullable String mode, @Nullable List<IndividualEnrollment> enrollments) {

    public BulkEnrollmentOperation {
        enrollments = enrollments == null ? null : BulkEnrollmentService.copyWithoutNulls("enrollments", enrollments);
    }

    /** An operation of the given mode. */
    public static BulkEnrollmentOperation of(BulkMode mode, List<IndividualEnrollment> enrollments) {
        return new BulkEnrollmentOperation(mode.wireName(), enrollments);
    }
}
