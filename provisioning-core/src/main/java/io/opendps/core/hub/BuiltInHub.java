package io.opendps.core.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.enrollment.Etags;
import io.opendps.core.enrollment.Page;
import io.opendps.core.enrollment.TwinRules;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.json.Json;
import io.opendps.core.store.HubStore;
import io.opendps.core.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hubs OpenDPS serves itself: device identities, twins and a bounded telemetry log per hub, in the store. It is
 * the registrar's {@link HubConnector} for these hubs, the device side of the hub MQTT endpoint (twin reads,
 * reported patches, telemetry) and the operator side (list devices, read and update twins, delete devices, read
 * the telemetry log after a cursor).
 *
 * <p>Twin updates follow IoT Hub: a patch is a JSON merge patch (a {@code null} value removes a property, objects
 * merge recursively); keys starting with {@code $} are ignored in patches (versions and metadata are the hub's);
 * a desired patch that changes something bumps the desired {@code $version} by one and is then handed to the
 * {@link DesiredPropertiesListener}s (connected devices get it); a reported patch bumps the reported version.
 * The telemetry log keeps the newest {@code messageCap} messages of each hub; older ones are dropped on append.
 *
 * <p>Operator twin updates are checked with IoT Hub's twin rules ({@link TwinRules}, the rules an enrollment's
 * {@code initialTwin} follows): the patch itself (where {@code null} removes a property) and the merged tags and
 * desired properties, each refusal a {@code 400004} naming the JSON path; an {@code If-Match} etag is compared with
 * the twin's {@link Twin#etag()} under the twin's row lock ({@code 412501} when it changed, {@code *} always
 * matches). A refused update writes nothing. Deleting a device tells the {@link DeviceDeletedListener}s (the MQTT
 * endpoint disconnects it); the device's registration record is not touched.
 *
 * <p>Reprovisioning moves a device's data with {@link #readData} and {@link #createOrReplace}: a replaced twin keeps
 * the versions of unchanged sections and bumps changed ones, and a connected device is sent the desired change.
 *
 * <p>Thread-safe; synchronous (store work): call it on a worker pool. Unknown devices are {@link ProvisioningException}s
 * with {@link ErrorCode#HUB_DEVICE_NOT_FOUND}, hubs not served here {@link ErrorCode#HUB_NOT_FOUND}.
 */
public final class BuiltInHub implements HubConnector {

    private static final Logger LOG = LoggerFactory.getLogger(BuiltInHub.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");

    /** Default number of messages kept per hub. */
    public static final int DEFAULT_MESSAGE_CAP = 10_000;

    private final Supplier<Set<String>> hubs;
    private final HubStore store;
    private final Clock clock;
    private final int messageCap;
    private final List<DesiredPropertiesListener> listeners = new CopyOnWriteArrayList<>();
    private final List<DeviceDeletedListener> deletionListeners = new CopyOnWriteArrayList<>();

    /**
     * @param hubs the host names of the hubs served here (case-insensitive)
     * @param store devices, twins and messages
     * @param clock time source for message timestamps
     * @param messageCap messages kept per hub (the oldest beyond it are dropped), at least 1
     */
    public BuiltInHub(List<String> hubs, HubStore store, Clock clock, int messageCap) {
        this(fixed(hubs), store, clock, messageCap);
    }

    /**
     * A built-in hub whose set of served hubs can change at run time (the linked hubs with the built-in connector,
     * managed through the service API).
     *
     * @param hubs the lower-case host names of the hubs served now; read on every call, so it must be cheap
     * @param store devices, twins and messages
     * @param clock time source for message timestamps
     * @param messageCap messages kept per hub (the oldest beyond it are dropped), at least 1
     */
    public BuiltInHub(Supplier<Set<String>> hubs, HubStore store, Clock clock, int messageCap) {
        if (messageCap < 1) {
            throw new IllegalArgumentException("messageCap must be at least 1, was " + messageCap);
        }
        this.hubs = Objects.requireNonNull(hubs, "hubs");
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.messageCap = messageCap;
    }

    private static Supplier<Set<String>> fixed(List<String> hubs) {
        Set<String> set = hubs.stream().map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
        return () -> set;
    }

    /** Whether {@code hub} is served here (case-insensitive). */
    public boolean serves(String hub) {
        return hubs.get().contains(hub.toLowerCase(Locale.ROOT));
    }

    /** The host names of the hubs served here now, lower-case. */
    public Set<String> hubs() {
        return hubs.get();
    }

    /** The connector lookup for a server whose linked hubs are all built-in: this hub for the hubs it serves. */
    public HubConnectors connectors() {
        return hub -> serves(hub) ? Optional.of(this) : Optional.empty();
    }

    /** Adds a listener for operator changes of desired properties. */
    public void addListener(DesiredPropertiesListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Adds a listener for deleted devices. */
    public void addDeletionListener(DeviceDeletedListener listener) {
        deletionListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    // --- HubConnector (the registrar) ---

    @Override
    public DeviceIdentity createOrUpdate(DeviceIdentity identity, InitialTwin initialTwin) {
        if (!serves(identity.hub())) {
            throw new HubConnectorException("hub '" + identity.hub() + "' is not served by this OpenDPS server");
        }
        boolean created;
        try {
            created = store.upsertDevice(identity, initialTwin);
        } catch (StoreException e) {
            throw new HubConnectorException("the built-in hub '" + identity.hub() + "' could not store device '"
                    + identity.deviceId() + "': " + e.getMessage(), e);
        }
        AUDIT.info("hub device {} [hub: {}, device-id: {}, authentication: {}]", created ? "created" : "updated",
                identity.hub(), identity.deviceId(), identity.authentication().type());
        return identity;
    }

    @Override
    public Optional<DeviceIdentity> find(String hub, String deviceId) {
        return store.findDevice(hub, deviceId);
    }

    @Override
    public boolean delete(String hub, String deviceId) {
        boolean deleted = store.deleteDevice(hub, deviceId);
        if (deleted) {
            AUDIT.info("hub device deleted [hub: {}, device-id: {}]", hub, deviceId);
            for (DeviceDeletedListener listener : deletionListeners) {
                try {
                    listener.deviceDeleted(hub.toLowerCase(Locale.ROOT), deviceId);
                } catch (RuntimeException e) {
                    LOG.warn("device-deleted listener failed [hub: {}, device-id: {}]", hub, deviceId, e);
                }
            }
        }
        return deleted;
    }

    @Override
    public Optional<DeviceData> readData(String hub, String deviceId) {
        try {
            return store.findTwin(hub, deviceId).map(DeviceData::of);
        } catch (StoreException e) {
            throw new HubConnectorException("the built-in hub '" + hub + "' could not read device '" + deviceId
                    + "': " + e.getMessage(), e);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>When the device existed and its desired properties changed, the listeners get a merge patch from the old
     * desired properties to the new ones (removed properties {@code null}) with the new {@code $version}, so a device
     * still connected to this hub sees the replaced twin.
     */
    @Override
    public DeviceIdentity createOrReplace(DeviceIdentity identity, DeviceData data) {
        if (!serves(identity.hub())) {
            throw new HubConnectorException("hub '" + identity.hub() + "' is not served by this OpenDPS server");
        }
        HubStore.Replaced replaced;
        try {
            replaced = store.replaceDevice(identity, data);
        } catch (StoreException e) {
            throw new HubConnectorException("the built-in hub '" + identity.hub() + "' could not store device '"
                    + identity.deviceId() + "': " + e.getMessage(), e);
        }
        Twin before = replaced.before();
        Twin after = replaced.after();
        AUDIT.info("hub device {} with replaced twin [hub: {}, device-id: {}, authentication: {}, desired-version: {}, "
                + "reported-version: {}]", before == null ? "created" : "updated", identity.hub(), identity.deviceId(),
                identity.authentication().type(), after.desiredVersion(), after.reportedVersion());
        if (before != null && after.desiredVersion() != before.desiredVersion()) {
            ObjectNode patch = after.desired().deepCopy();
            before.desired().fieldNames().forEachRemaining(name -> {
                if (!patch.has(name)) {
                    patch.putNull(name);
                }
            });
            notifyDesired(after, patch);
        }
        return identity;
    }

    // --- operator side ---

    /**
     * A page of a hub's devices ordered by device id, strictly after {@code afterDeviceId} when given.
     *
     * @param limit 1..1000
     */
    public List<DeviceIdentity> listDevices(String hub, @Nullable String afterDeviceId, int limit) {
        requireHub(hub);
        if (limit < 1 || limit > 1000) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "limit must be 1..1000, was %d", limit);
        }
        return store.listDevices(hub, afterDeviceId, limit);
    }

    /**
     * A page of a hub's devices ordered by device id, for the service API: {@code pageSize} devices at most (0 or
     * less: {@link Page}'s default of 100; capped at {@link Page#MAX_PAGE}), after the device named by
     * {@code continuation} (null: the first page). The continuation token is base64url of the last device id (ids
     * are case-sensitive, so unlike enrollment tokens it is not lower-cased); it is null on the last page.
     *
     * @throws ProvisioningException 404 for a hub not served here, 400 for a token this server did not issue
     */
    public Page<DeviceIdentity> devicePage(String hub, @Nullable String continuation, int pageSize) {
        requireHub(hub);
        int size = Page.pageSize(pageSize);
        String after = null;
        if (continuation != null && !continuation.isEmpty()) {
            try {
                after = new String(Base64.getUrlDecoder().decode(continuation), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT,
                        "x-ms-continuation '%s' is not a token this server issued", continuation);
            }
        }
        List<DeviceIdentity> read = new ArrayList<>(store.listDevices(hub, after, size + 1));
        String next = null;
        if (read.size() > size) {
            read = read.subList(0, size);
            next = Base64.getUrlEncoder().withoutPadding().encodeToString(
                    read.get(size - 1).deviceId().getBytes(StandardCharsets.UTF_8));
        }
        return new Page<>(List.copyOf(read), next);
    }

    /** A device's identity (404 when the hub is not served here or the device does not exist). */
    public DeviceIdentity device(String hub, String deviceId) {
        requireHub(hub);
        return store.findDevice(hub, deviceId).orElseThrow(() -> deviceNotFound(hub, deviceId));
    }

    /**
     * Deletes a device and its twin for an operator (404 when the hub is not served here or the device does not
     * exist). Connected devices are disconnected by the {@link DeviceDeletedListener}s.
     */
    public void deleteDevice(String hub, String deviceId) {
        requireHub(hub);
        if (!delete(hub, deviceId)) {
            throw deviceNotFound(hub, deviceId);
        }
    }

    /** The twin of a device (404 when the device does not exist). */
    public Twin twin(String hub, String deviceId) {
        requireHub(hub);
        return store.findTwin(hub, deviceId).orElseThrow(() -> deviceNotFound(hub, deviceId));
    }

    /**
     * Updates tags and/or desired properties with merge patches (either may be null). When the desired properties
     * changed, their version goes up by one and the listeners get the patch with the new {@code $version}.
     *
     * @throws ProvisioningException 400 when a patch is not a JSON object, 404 when the device does not exist
     */
    public Twin updateTwin(String hub, String deviceId, @Nullable JsonNode tagsPatch,
            @Nullable JsonNode desiredPatch) {
        return updateTwin(hub, deviceId, tagsPatch, desiredPatch, null);
    }

    /**
     * {@link #updateTwin(String, String, JsonNode, JsonNode)} when the twin's etag still matches {@code ifMatch}
     * (null or {@code *}: unconditionally). The patches and the merged result must follow {@link TwinRules}.
     *
     * @throws ProvisioningException 400 naming the field for a patch or a result that breaks a twin rule, 404 when
     *     the device does not exist, 412 when {@code ifMatch} is not the current etag; nothing is written then
     */
    public Twin updateTwin(String hub, String deviceId, @Nullable JsonNode tagsPatch,
            @Nullable JsonNode desiredPatch, @Nullable String ifMatch) {
        requireHub(hub);
        requireObject("tags", tagsPatch);
        requireObject("properties.desired", desiredPatch);
        TwinRules.collection("tags", tagsPatch);
        TwinRules.collection("properties.desired", desiredPatch);
        Twin[] before = new Twin[1];
        Twin updated = store.updateTwin(hub, deviceId, current -> {
            if (ifMatch != null && !Etags.isWildcard(ifMatch) && !Etags.matches(ifMatch, current.etag())) {
                throw new ProvisioningException(ErrorCode.HUB_TWIN_PRECONDITION_FAILED, "If-Match %s does not match "
                        + "the current etag \"%s\" of the twin of device '%s' in hub '%s': read the twin again",
                        ifMatch, current.etag(), deviceId, hub);
            }
            before[0] = current;
            ObjectNode tags = current.tags().deepCopy();
            ObjectNode desired = current.desired().deepCopy();
            if (tagsPatch != null) {
                mergePatch(tags, (ObjectNode) tagsPatch);
                TwinRules.collection("tags", tags);
            }
            if (desiredPatch != null) {
                mergePatch(desired, (ObjectNode) desiredPatch);
                TwinRules.collection("properties.desired", desired);
            }
            boolean desiredChanged = !desired.equals(current.desired());
            long version = desiredChanged ? current.desiredVersion() + 1 : current.desiredVersion();
            long twinVersion = desiredChanged || !tags.equals(current.tags()) ? current.version() + 1
                    : current.version();
            return new Twin(current.hub(), current.deviceId(), tags, desired, version, current.reported(),
                    current.reportedVersion(), twinVersion);
        }).orElseThrow(() -> deviceNotFound(hub, deviceId));
        AUDIT.info("twin updated [hub: {}, device-id: {}, desired-version: {}]", hub, deviceId,
                updated.desiredVersion());
        if (desiredPatch != null && updated.desiredVersion() != before[0].desiredVersion()) {
            notifyDesired(updated, stripped((ObjectNode) desiredPatch));
        }
        return updated;
    }

    /** Hands {@code patch} (a merge patch to the twin's desired properties) with its new version to the listeners. */
    private void notifyDesired(Twin updated, ObjectNode patch) {
        patch.put("$version", updated.desiredVersion());
        for (DesiredPropertiesListener listener : listeners) {
            try {
                listener.desiredChanged(updated.hub(), updated.deviceId(), patch.deepCopy(), updated.desiredVersion());
            } catch (RuntimeException e) {
                LOG.warn("desired-properties listener failed [hub: {}, device-id: {}]", updated.hub(),
                        updated.deviceId(), e);
            }
        }
    }

    /**
     * The hub's telemetry after {@code afterSequence} (0 for the oldest kept), oldest first.
     *
     * @param limit 1..1000
     */
    public List<HubMessage> messagesAfter(String hub, long afterSequence, int limit) {
        requireHub(hub);
        if (limit < 1 || limit > 1000) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "limit must be 1..1000, was %d", limit);
        }
        return store.messagesAfter(hub, afterSequence, limit);
    }

    // --- device side (the hub MQTT endpoint) ---

    /** The twin a connected device reads, or empty when the device no longer exists. */
    public Optional<Twin> deviceTwin(String hub, String deviceId) {
        return store.findTwin(hub, deviceId);
    }

    /**
     * Applies a device's reported-properties patch (a JSON object, merge-patch semantics) and returns the new
     * reported version; empty when the device no longer exists.
     */
    public Optional<Long> patchReported(String hub, String deviceId, ObjectNode patch) {
        return store.updateTwin(hub, deviceId, current -> {
            ObjectNode reported = current.reported().deepCopy();
            mergePatch(reported, patch);
            return new Twin(current.hub(), current.deviceId(), current.tags(), current.desired(),
                    current.desiredVersion(), reported, current.reportedVersion() + 1, current.version() + 1);
        }).map(Twin::reportedVersion);
    }

    /** Appends a device's telemetry message to its hub's log (dropping the oldest beyond the cap). */
    public HubMessage appendMessage(String hub, String deviceId, Map<String, String> properties, byte[] body) {
        return store.appendMessage(hub, deviceId, clock.instant(), properties, body, messageCap);
    }

    // --- helpers ---

    private void requireHub(String hub) {
        if (!serves(hub)) {
            throw new ProvisioningException(ErrorCode.HUB_NOT_FOUND, "hub '%s' is not served by this OpenDPS "
                    + "server (served: %s)", hub, String.join(", ", hubs.get().stream().sorted().toList()));
        }
    }

    private static void requireObject(String field, @Nullable JsonNode patch) {
        if (patch != null && !patch.isObject()) {
            throw new ProvisioningException(ErrorCode.INVALID_ARGUMENT, "%s must be a JSON object, was %s", field,
                    patch.getNodeType().name().toLowerCase(Locale.ROOT));
        }
    }

    private static ProvisioningException deviceNotFound(String hub, String deviceId) {
        return new ProvisioningException(ErrorCode.HUB_DEVICE_NOT_FOUND, "no device '%s' in hub '%s'", deviceId, hub);
    }

    /** RFC 7396 merge patch of {@code target} by {@code patch}, skipping {@code $}-keys. */
    static void mergePatch(ObjectNode target, ObjectNode patch) {
        for (Map.Entry<String, JsonNode> field : patch.properties()) {
            String key = field.getKey();
            JsonNode value = field.getValue();
            if (key.startsWith("$")) {
                continue;
            }
            if (value.isNull()) {
                target.remove(key);
            } else if (value.isObject() && target.get(key) instanceof ObjectNode existing) {
                mergePatch(existing, (ObjectNode) value);
            } else if (value.isObject()) {
                ObjectNode fresh = Json.mapper().createObjectNode();
                mergePatch(fresh, (ObjectNode) value);
                target.set(key, fresh);
            } else {
                target.set(key, value.deepCopy());
            }
        }
    }

    private static ObjectNode stripped(ObjectNode patch) {
        ObjectNode out = patch.deepCopy();
        out.remove(out.properties().stream().map(Map.Entry::getKey).filter(k -> k.startsWith("$")).toList());
        return out;
    }
}
