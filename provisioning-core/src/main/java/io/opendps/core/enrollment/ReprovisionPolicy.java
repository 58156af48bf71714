package io.opendps.core.enrollment;

/**
 * {@code {"updateHubAssignment": bool, "migrateDeviceData": bool}}. Its absence on an enrollment is meaningful
 * (legacy "sticky" behaviour), so enrollments hold it as nullable and never fill it in.
 */
public record ReprovisionPolicy(boolean updateHubAssignment, boolean migrateDeviceData) {
}
