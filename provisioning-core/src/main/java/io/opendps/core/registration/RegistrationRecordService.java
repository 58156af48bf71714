package io.opendps.core.registration;

import io.opendps.core.enrollment.Etags;
import io.opendps.core.enrollment.Page;
import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;
import io.opendps.core.store.RegistrationStore;
import io.opendps.core.store.StaleVersionException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Device registration records as the service API shows them ({@code dps-service-api.md} §8): read, delete, and
 * query the records of one enrollment group. Records are read-only except for deletion; deleting one makes the
 * device's next registration a first-time assignment (allocation from scratch, device id re-read from the
 * enrollment); it does not touch the device's hub identity. Records outlive their group, so a group's records
 * can be queried after the group is deleted.
 *
 * <p>Thread-safe; synchronous (store work): call it on a worker pool.
 */
public final class RegistrationRecordService {

    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");

    private final RegistrationStore store;

    public RegistrationRecordService(RegistrationStore store) {
        this.store = Objects.requireNonNull(store, "store");
    }

    /** The record of a registration id (service view); 404 (404202) when the device never registered. */
    public DeviceRegistrationState get(String registrationId) {
        return store.find(registrationId).map(DeviceRegistrationState::serviceView)
                .orElseThrow(() -> notFound(registrationId));
    }

    /** Deletes a record; 404 when absent, 412 when {@code ifMatch} names another version ({@code *}: any). */
    public void delete(String registrationId, @Nullable String ifMatch) {
        String expected = null;
        if (ifMatch != null && !Etags.isWildcard(ifMatch)) {
            DeviceRegistrationState current = store.find(registrationId).orElseThrow(() -> notFound(registrationId));
            String etag = Objects.requireNonNull(current.etag());
            if (!Etags.matches(ifMatch, etag)) {
                throw stale(registrationId, ifMatch);
            }
            expected = etag;
        }
        try {
            if (!store.delete(registrationId, expected)) {
                throw notFound(registrationId);
            }
        } catch (StaleVersionException e) {
            throw stale(registrationId, ifMatch);
        }
        AUDIT.info("registration record deleted [registration-id: {}]", registrationId);
    }

    /**
     * Marks the record so that the device's next registration runs allocation again, whatever its reprovision policy
     * (operator's reprovision: the device moves if the current enrollment and linked hubs give another hub, its data
     * migrated or reset per the policy); 404 when the device has no record.
     */
    public void requestReprovision(String registrationId) {
        if (!store.requestReprovision(registrationId)) {
            throw notFound(registrationId);
        }
        AUDIT.info("registration marked for reprovisioning [registration-id: {}]", registrationId);
    }

    /** A page of the records of devices that registered through {@code groupId}, ordered by registration id. */
    public Page<DeviceRegistrationState> queryGroup(String groupId, int pageSize, @Nullable String continuation) {
        int size = Page.pageSize(pageSize);
        return Page.of(store.listByGroup(groupId, Page.afterKey(continuation), size + 1), size,
                DeviceRegistrationState::registrationId, DeviceRegistrationState::serviceView);
    }

    private static ProvisioningException notFound(String registrationId) {
        return new ProvisioningException(ErrorCode.REGISTRATION_NOT_FOUND,
                "no registration record for '%s' (the device has not registered, or its record was deleted)",
                registrationId);
    }

    private static ProvisioningException stale(String registrationId, @Nullable String ifMatch) {
        return new ProvisioningException(ErrorCode.REGISTRATION_PRECONDITION_FAILED,
                "If-Match %s does not match the current etag of the registration record of '%s'", ifMatch,
                registrationId);
    }
}
