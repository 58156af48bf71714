package io.opendps.core.linkedhub;

import io.opendps.core.enrollment.AllocationPolicy;
import org.jspecify.annotations.Nullable;

/**
 * The service-wide allocation settings, {@code GET|PUT /settings/allocation}: {@code {"allocationPolicy":"hashed"}}.
 * The policy applies to enrollments without their own {@code allocationPolicy}, at registration time. Input is
 * case-insensitive (ARM's {@code Hashed}, {@code GeoLatency}, {@code Static} are accepted); output uses the data-plane
 * casing. {@code custom} cannot be the default (as in Azure: it needs a per-enrollment webhook).
 *
 * @param allocationPolicy {@code hashed} (the default), {@code geoLatency} or {@code static}
 */
public record AllocationSettings(@Nullable AllocationPolicy allocationPolicy) {
}
