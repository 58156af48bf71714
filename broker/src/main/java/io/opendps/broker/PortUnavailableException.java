package io.opendps.broker;

/** A listener port cannot be bound; the message is one line a user can act on. */
public final class PortUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public PortUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
