package io.opendps.core.error;

import java.util.Locale;

/**
 * The one unchecked exception of the domain: it carries the {@link ErrorCode} that the edge turns into a
 * status and an error body. Expected outcomes of a device registration are values, not this exception;
 * this is for bad input on the service API and for infrastructure failures.
 */
public class ProvisioningException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    /** An error with a message formatted with {@link String#format}. */
    public ProvisioningException(ErrorCode code, String message, Object... args) {
        super(args.length == 0 ? message : String.format(Locale.ROOT, message, args));
        this.code = code;
    }

    /** An error caused by another exception. */
    public ProvisioningException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The error code. */
    public ErrorCode code() {
        return code;
    }
}
