package io.opendps.core.linkedhub;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** How OpenDPS writes device identities to a linked hub. */
public enum ConnectorType {
    /** The hub is served by OpenDPS itself on the device port ({@link io.opendps.core.hub.BuiltInHub}). */
    BUILT_IN("builtIn"),
    /** The user's backend receives signed HTTP calls ({@link io.opendps.core.hub.WebhookHubConnector}). */
    WEBHOOK("webhook");

    private final String wire;

    ConnectorType(String wire) {
        this.wire = wire;
    }

    /** The JSON and database value. */
    @JsonValue
    public String wire() {
        return wire;
    }

    /**
     * Reads a type, ignoring case.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    @JsonCreator
    public static ConnectorType parse(String text) {
        for (ConnectorType t : values()) {
            if (t.wire.equalsIgnoreCase(text)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown connector type '" + text + "': use builtIn or webhook");
    }

    @Override
    public String toString() {
        return wire;
    }
}
