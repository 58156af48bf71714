package io.opendps.core.linkedhub;

import io.opendps.core.allocation.LinkedHub;
import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A linked hub as stored: its allocation inputs, its connector and the bookkeeping of a managed resource.
 *
 * @param hub host name (lower-case key), weight, allocation flag, location
 * @param connector how identities are written to it
 * @param webhookUrl the backend's URL for {@link ConnectorType#WEBHOOK}, else null
 * @param webhookSecret the shared signing secret for {@link ConnectorType#WEBHOOK}, else null; never logged or
 *     returned by the API
 * @param etag quoted opaque version, new on every write
 * @param created when it was linked
 * @param updated when it was last written
 */
public record StoredLinkedHub(LinkedHub hub, ConnectorType connector, @Nullable String webhookUrl,
        @Nullable String webhookSecret, String etag, Instant created, Instant updated) {

    public StoredLinkedHub {
        Objects.requireNonNull(hub, "hub");
        Objects.requireNonNull(connector, "connector");
        if (connector == ConnectorType.WEBHOOK && (webhookUrl == null || webhookSecret == null)) {
            throw new IllegalArgumentException("a webhook hub needs a URL and a secret");
        }
        if (connector == ConnectorType.BUILT_IN) {
            webhookUrl = null;
            webhookSecret = null;
        }
        Objects.requireNonNull(etag, "etag");
        Objects.requireNonNull(created, "created");
        Objects.requireNonNull(updated, "updated");
    }

    /** The lower-case host name. */
    public String hostName() {
        return hub.hostName();
    }

    /** Without the secret. */
    @Override
    public String toString() {
        return "StoredLinkedHub[" + hub + ", connector=" + connector + ", webhookUrl="
                + (webhookUrl == null ? null : LinkedHubView.maskQuery(webhookUrl)) + ", etag=" + etag + "]";
    }
}
