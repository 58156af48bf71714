package io.opendps.core.tpm;

/** A TPM structure sent by a device (or stored in an enrollment) cannot be used; the message says why. */
public final class TpmFormatException extends Exception {

    private static final long serialVersionUID = 1L;

    public TpmFormatException(String message) {
        super(message);
    }
}
