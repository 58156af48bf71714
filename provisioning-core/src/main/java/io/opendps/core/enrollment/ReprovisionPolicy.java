package io.opendps.core.enrollment;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import org.jspecify.annotations.Nullable;

/**
 * {@code {"updateHubAssignment": bool, "migrateDeviceData": bool}} ({@code dps-service-api.md} §10.1). Its absence
 * on an enrollment is meaningful (legacy "sticky" behaviour, §10.4), so enrollments hold it as nullable, never fill
 * it in and omit it on output when absent. When the object is present <em>both</em> flags are required, as in the
 * spec: a missing or {@code null} flag is a 400 naming it (the spec's per-flag default of {@code true} is not
 * applied, so a client never gets a policy it did not spell out).
 */
public record ReprovisionPolicy(boolean updateHubAssignment, boolean migrateDeviceData) {

    /**
     * Reads the JSON object.
     *
     * @throws IllegalArgumentException naming the missing flag
     */
    @JsonCreator
    static ReprovisionPolicy fromJson(@JsonProperty("updateHubAssignment") @Nullable Boolean updateHubAssignment,
            @JsonProperty("migrateDeviceData") @Nullable Boolean migrateDeviceData) {
        if (updateHubAssignment == null || migrateDeviceData == null) {
            throw new IllegalArgumentException("reprovisionPolicy." + (updateHubAssignment == null
                    ? "updateHubAssignment" : "migrateDeviceData") + " is required (true or false): a "
                    + "reprovisionPolicy needs both updateHubAssignment and migrateDeviceData; leave the whole object "
                    + "out to keep the legacy behaviour");
        }
        return new ReprovisionPolicy(updateHubAssignment, migrateDeviceData);
    }
}
