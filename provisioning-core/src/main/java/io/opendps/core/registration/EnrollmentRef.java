package io.opendps.core.registration;

/** Which enrollment matched a device: an individual enrollment or a group, by id. */
public record EnrollmentRef(Kind kind, String id) {

    /** The two kinds of enrollment. */
    public enum Kind { INDIVIDUAL, GROUP }

    /** The individual enrollment with this registration id. */
    public static EnrollmentRef individual(String registrationId) {
        return new EnrollmentRef(Kind.INDIVIDUAL, registrationId);
    }

    /** The enrollment group with this id. */
    public static EnrollmentRef group(String groupId) {
        return new EnrollmentRef(Kind.GROUP, groupId);
    }
}
