package io.opendps.core.service;

/** Rights of a shared access policy ({@code dps-service-api.md} §2.3–2.4). */
public enum AccessRight {
    SERVICE_CONFIG("ServiceConfig"),
    ENROLLMENT_READ("EnrollmentRead"),
    ENROLLMENT_WRITE("EnrollmentWrite"),
    DEVICE_CONNECT("DeviceConnect"),
    REGISTRATION_STATUS_READ("RegistrationStatusRead"),
    REGISTRATION_STATUS_WRITE("RegistrationStatusWrite");

    private final String wireName;

    AccessRight(String wireName) {
        this.wireName = wireName;
    }

    /** The name used in the {@code rights} text, e.g. {@code EnrollmentRead}. */
    public String wireName() {
        return wireName;
    }

    /** Parses a right by its wire name (case-insensitive). */
    public static AccessRight parse(String text) {
        for (AccessRight right : values()) {
            if (right.wireName.equalsIgnoreCase(text.trim())) {
                return right;
            }
        }
        throw new IllegalArgumentException("unknown access right '" + text + "'");
    }
}
