package io.opendps.core.registration;

import java.util.Objects;

/**
 * A reprovisioning move in progress ({@code dps-service-api.md} §10.2), persisted with the registration record from
 * the moment it is decided until it is done, so that a crash is finished by the device's next poll or registration:
 * read the device's data in {@code fromHub} (migrate), write the device to {@code toHub}, delete it from
 * {@code fromHub}. Every step is idempotent; when the old device is already gone and the new one exists, the move is
 * done. A move within one hub ({@code reset} on the same hub) re-applies the initial twin and deletes nothing.
 *
 * @param fromHub the hub the device is in
 * @param fromDeviceId its device id there
 * @param toHub the hub it moves to
 * @param toDeviceId its device id there
 * @param mode whether its twin moves with it or is reset to the enrollment's initial twin
 */
public record HubMove(String fromHub, String fromDeviceId, String toHub, String toDeviceId, Mode mode) {

    /** What happens to the device's twin data. */
    public enum Mode {
        /** Tags, desired and reported properties (and capabilities) move to the new hub: {@code deviceDataMigrated}. */
        MIGRATE,
        /** The new hub gets the enrollment's initial twin: {@code deviceDataReset}. */
        RESET
    }

    public HubMove {
        Objects.requireNonNull(fromHub, "fromHub");
        Objects.requireNonNull(fromDeviceId, "fromDeviceId");
        Objects.requireNonNull(toHub, "toHub");
        Objects.requireNonNull(toDeviceId, "toDeviceId");
        Objects.requireNonNull(mode, "mode");
    }

    /** Whether the device changes hub or device id (else nothing is deleted). */
    public boolean leavesOldDevice() {
        return !fromHub.equalsIgnoreCase(toHub) || !fromDeviceId.equals(toDeviceId);
    }

    /** The substatus of the finished move. */
    public Substatus substatus() {
        return mode == Mode.MIGRATE ? Substatus.DEVICE_DATA_MIGRATED : Substatus.DEVICE_DATA_RESET;
    }
}
