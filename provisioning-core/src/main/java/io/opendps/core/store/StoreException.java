package io.opendps.core.store;

import io.opendps.core.error.ErrorCode;
import io.opendps.core.error.ProvisioningException;

/** The store failed (database unreachable, pool exhausted, corrupt document); retryable for the caller. */
public class StoreException extends ProvisioningException {

    private static final long serialVersionUID = 1L;

    public StoreException(String message, Throwable cause) {
        super(ErrorCode.SERVICE_UNAVAILABLE, message, cause);
    }
}
