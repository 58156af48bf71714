package io.opendps.core.store;

import io.opendps.core.hub.DeviceData;
import io.opendps.core.hub.DeviceIdentity;
import io.opendps.core.hub.HubMessage;
import io.opendps.core.hub.InitialTwin;
import io.opendps.core.hub.Twin;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * The built-in hub's devices, twins and telemetry log. Hub names are case-insensitive, device ids case-sensitive.
 * Thread-safe and synchronous.
 */
public interface HubStore {

    /**
     * Creates the device with a twin from {@code initialTwin} (versions 1), or replaces the identity of an existing
     * device and keeps its twin, in one transaction.
     *
     * @return true when the device was created
     */
    boolean upsertDevice(DeviceIdentity identity, InitialTwin initialTwin);

    /**
     * Creates the device with a twin holding {@code data} (versions 1), or replaces the identity of an existing
     * device and sets its twin to {@code data}: a section whose content changes gets its version plus one, an
     * unchanged one keeps its version (tags have no version). One transaction.
     *
     * @return the twin before (null for a new device) and after
     */
    Replaced replaceDevice(DeviceIdentity identity, DeviceData data);

    /** The outcome of {@link #replaceDevice}. */
    record Replaced(@Nullable Twin before, Twin after) {
    }

    /** The identity of a device. */
    Optional<DeviceIdentity> findDevice(String hub, String deviceId);

    /** Deletes a device and its twin (its messages stay in the log until they age out); false when absent. */
    boolean deleteDevice(String hub, String deviceId);

    /** Devices of a hub ordered by device id, strictly after {@code afterDeviceId} when given. */
    List<DeviceIdentity> listDevices(String hub, @Nullable String afterDeviceId, int limit);

    /** The twin of a device. */
    Optional<Twin> findTwin(String hub, String deviceId);

    /**
     * Replaces the twin by {@code change(current)} under a row lock (concurrent changes serialize); empty when the
     * device does not exist. {@code change} must be free of side effects (it runs inside the transaction).
     */
    Optional<Twin> updateTwin(String hub, String deviceId, UnaryOperator<Twin> change);

    /**
     * Appends a message to the hub's log and drops the oldest messages beyond {@code cap} for that hub, in one
     * transaction.
     */
    HubMessage appendMessage(String hub, String deviceId, Instant enqueuedAt, Map<String, String> properties,
            byte[] body, int cap);

    /** Up to {@code limit} messages of a hub with a sequence greater than {@code afterSequence}, oldest first. */
    List<HubMessage> messagesAfter(String hub, long afterSequence, int limit);
}
