package io.opendps.core.enrollment;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The body of {@code POST /enrollmentGroups} ({@code BulkEnrollmentGroupOperation}, {@code dps-service-api.md}
 * §7): {@code {"mode": ..., "enrollmentGroups": [EnrollmentGroup...]}}; see {@link BulkEnrollmentOperation}.
 *
 * @throws IllegalArgumentException when the list holds a JSON {@code null}
 */
@JsonPropertyOrder({"mode", "enrollmentGroups"})
public record BulkEnrollmentGroupOperation(@Nullable String mode, @Nullable List<EnrollmentGroup> enrollmentGroups) {

    public BulkEnrollmentGroupOperation {
        enrollmentGroups = enrollmentGroups == null ? null
                : BulkEnrollmentService.copyWithoutNulls("enrollmentGroups", enrollmentGroups);
    }

    /** An operation of the given mode. */
    public static BulkEnrollmentGroupOperation of(BulkMode mode, List<EnrollmentGroup> groups) {
        return new BulkEnrollmentGroupOperation(mode.wireName(), groups);
    }
}
