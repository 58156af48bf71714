package io.opendps.core.hub;

/**
 * A hub write failed. The message says which hub and why, for the registration record's {@code errorMessage} and
 * operators; it never contains keys.
 */
public class HubConnectorException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public HubConnectorException(String message) {
        super(message);
    }

    public HubConnectorException(String message, Throwable cause) {
        super(message, cause);
    }
}
