package io.opendps.core.registration;

import java.util.regex.Pattern;

/**
 * The api-version gates of registration ({@code dps-service-api.md} §10.3, §10.4, {@code dps-device-protocol.md}
 * §13): versions compare by their date ({@code 2019-03-31}, {@code 2018-09-01-preview}); a value that is not a
 * dated version counts as newer than every gate (this server's current behaviour).
 */
public final class ApiVersions {

    /** The last api-version with the legacy "sticky" re-registration when an enrollment has no reprovision policy. */
    public static final String LAST_STICKY = "2018-04-01";
    /** The first api-version that may see {@code reprovisionedToInitialAssignment}. */
    public static final String FIRST_REPROVISIONED_SUBSTATUS = "2019-04-15";

    private static final Pattern DATED = Pattern.compile("^\\d{4}-\\d{2}-\\d{2}.*");

    private ApiVersions() {
    }

    /** Whether {@code apiVersion} is dated on or before {@code date} (a {@code yyyy-MM-dd}). */
    public static boolean atMost(String apiVersion, String date) {
        return DATED.matcher(apiVersion).matches() && apiVersion.substring(0, 10).compareTo(date) <= 0;
    }

    /** Whether a device on {@code apiVersion} gets the legacy sticky hub when its enrollment has no policy. */
    public static boolean sticky(String apiVersion) {
        return atMost(apiVersion, LAST_STICKY);
    }

    /**
     * The substatus a caller on {@code apiVersion} sees: {@code reprovisionedToInitialAssignment} appeared in
     * {@value #FIRST_REPROVISIONED_SUBSTATUS}, older callers see {@code initialAssignment} instead. This is the one
     * mapping every answer carrying a substatus goes through (device polls, service reads and queries).
     */
    public static Substatus substatus(Substatus substatus, String apiVersion) {
        boolean older = DATED.matcher(apiVersion).matches()
                && apiVersion.substring(0, 10).compareTo(FIRST_REPROVISIONED_SUBSTATUS) < 0;
        return substatus == Substatus.REPROVISIONED_TO_INITIAL_ASSIGNMENT && older ? Substatus.INITIAL_ASSIGNMENT
                : substatus;
    }
}
