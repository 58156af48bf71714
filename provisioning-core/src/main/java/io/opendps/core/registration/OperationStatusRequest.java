package io.opendps.core.registration;

import org.jspecify.annotations.Nullable;

/** A device's poll of a registration operation. */
public record OperationStatusRequest(String idScope, String registrationId, @Nullable String sasToken,
        String operationId, String apiVersion) {

    @Override
    public String toString() {
        return "OperationStatusRequest[idScope=" + idScope + ", registrationId=" + registrationId
                + ", operationId=" + operationId + ", sas=" + (sasToken == null ? "absent" : "present") + "]";
    }
}
