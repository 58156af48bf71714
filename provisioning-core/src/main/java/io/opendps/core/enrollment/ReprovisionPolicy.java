package io.opendps.core.enrollment;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import org.jspecify.annotations.Nullable;

/**
 * {@code {"updateHubAssignment": bool, "migrateDeviceData": bool}}. Its absence on an enrollment is meaningful
 * (legacy "sticky" behaviour), so enrollments hold it as nullable and never fill it in. A flag missing from the
 * object defaults to {@code true}, as in the spec.
 */
public record ReprovisionPolicy(boolean updateHubAssignment, boolean migrateDeviceData) {

    /** Reads the JSON object; a flag left out takes the spec's default, {@code true}. */
    @JsonCreator
    static ReprovisionPolicy fromJson(@JsonProperty("updateHubAssignment") @Nullable Boolean updateHubAssignment,
            @JsonProperty("migrateDeviceData") @Nullable Boolean migrateDeviceData) {
        return new ReprovisionPolicy(updateHubAssignment == null || updateHubAssignment,
                migrateDeviceData == null || migrateDeviceData);
    }
}
