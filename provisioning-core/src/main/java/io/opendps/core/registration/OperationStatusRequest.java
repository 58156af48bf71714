package io.opendps.core.registration;

import java.security.cert.X509Certificate;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A device's poll of a registration operation; {@code clientCertificates} as in {@link RegistrationRequest}.
 */
public record OperationStatusRequest(String idScope, String registrationId, @Nullable String sasToken,
        String operationId, String apiVersion, List<X509Certificate> clientCertificates) {

    public OperationStatusRequest {
        clientCertificates = List.copyOf(clientCertificates);
    }

    /** A poll from a device that presented no client certificate. */
    public OperationStatusRequest(String idScope, String registrationId, @Nullable String sasToken,
            String operationId, String apiVersion) {
        this(idScope, registrationId, sasToken, operationId, apiVersion, List.of());
    }

    @Override
    public String toString() {
        return "OperationStatusRequest[idScope=" + idScope + ", registrationId=" + registrationId
                + ", operationId=" + operationId + ", sas=" + (sasToken == null ? "absent" : "present") + "]";
    }
}
