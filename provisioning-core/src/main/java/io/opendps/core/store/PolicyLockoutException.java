package io.opendps.core.store;

/**
 * A write to the shared access policies was refused because afterwards no policy would hold {@code ServiceConfig},
 * and nobody could administer the service any more. The store checks this inside the write's transaction, so
 * concurrent writers cannot together remove the last one.
 */
public class PolicyLockoutException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public PolicyLockoutException(String keyName) {
        super("no policy would hold ServiceConfig after writing [" + keyName + "]");
    }
}
