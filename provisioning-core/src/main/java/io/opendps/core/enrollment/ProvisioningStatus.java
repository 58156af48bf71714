package io.opendps.core.enrollment;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * Whether an enrollment may provision devices. Input is case-insensitive ({@code "Enabled"} is accepted, as the
 * .NET-based cloud service accepts it); output is always {@code enabled} or {@code disabled}.
 */
public enum ProvisioningStatus {
    ENABLED,
    DISABLED;

    /** The JSON value: {@code enabled} or {@code disabled}. */
    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Reads a status, ignoring case.
     *
     * @throws IllegalArgumentException naming the accepted values for anything else
     */
    @JsonCreator
    public static ProvisioningStatus parse(String text) {
        for (ProvisioningStatus s : values()) {
            if (s.wire().equalsIgnoreCase(text)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown provisioningStatus '" + text + "': use enabled or disabled");
    }
}
