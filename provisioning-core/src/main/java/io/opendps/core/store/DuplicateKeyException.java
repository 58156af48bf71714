package io.opendps.core.store;

/** An insert hit an existing key (SQLState 23505). */
public class DuplicateKeyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public DuplicateKeyException(String key) {
        super("duplicate key [" + key + "]");
    }
}
