package io.opendps.core.hub;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jspecify.annotations.Nullable;

/** The JSON bodies of the webhook hub protocol ({@link WebhookHubConnector}); one source of truth for both sides. */
public final class WebhookMessages {

    private WebhookMessages() {
    }

    /** The operations. */
    public static final String CREATE_OR_UPDATE = "createOrUpdate";
    /** Creates or updates the identity and replaces the whole twin. */
    public static final String CREATE_OR_REPLACE = "createOrReplace";
    /** Reads identity and twin. */
    public static final String GET = "get";
    /** Deletes identity and twin. */
    public static final String DELETE = "delete";

    /**
     * A request: {@code POST {url}} with this body.
     *
     * @param operation {@code createOrUpdate}, {@code createOrReplace}, {@code get} or {@code delete}
     * @param hub the linked hub's host name
     * @param deviceId the device id
     * @param identity the identity, for the two writes
     * @param twin for {@code createOrUpdate} the initial twin (used only when the device is new); for
     *     {@code createOrReplace} the twin that replaces the current one (with reported properties)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"operation", "hub", "deviceId", "identity", "twin"})
    public record Request(String operation, String hub, String deviceId, @Nullable DeviceIdentity identity,
            @Nullable TwinDocument twin) {
    }

    /**
     * A twin in IoT Hub's shape.
     *
     * @param tags tags
     * @param properties desired (and for {@code createOrReplace} / {@code get}, reported) properties
     */
    @JsonPropertyOrder({"tags", "properties"})
    public record TwinDocument(@Nullable ObjectNode tags, @Nullable Properties properties) {
    }

    /** Twin properties. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyOrder({"desired", "reported"})
    public record Properties(@Nullable ObjectNode desired, @Nullable ObjectNode reported) {
    }

    /**
     * The answer to {@code get} (HTTP 200; 404 means the device does not exist).
     *
     * @param identity the identity as the backend holds it
     * @param twin its twin (absent parts read as empty objects)
     */
    public record GetResponse(@Nullable DeviceIdentity identity, @Nullable TwinDocument twin) {
    }
}
