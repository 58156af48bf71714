package io.opendps.core.store;

/** A conditional write found a different etag than the caller expected (optimistic locking). */
public class StaleVersionException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public StaleVersionException(String key) {
        super("stale version [" + key + "]");
    }
}
