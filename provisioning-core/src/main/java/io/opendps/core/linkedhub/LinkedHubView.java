package io.opendps.core.linkedhub;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.opendps.core.json.AzureTimestamps;
import org.jspecify.annotations.Nullable;

/**
 * A linked hub as the service API returns it (secrets masked, see {@link ConnectorDocument}).
 *
 * @param hostName the hub's host name, lower-case
 * @param allocationWeight 1–1000
 * @param applyAllocationPolicy whether hashed/geo-latency allocation may choose it
 * @param location region name, or null
 * @param connector the connector, secret masked
 * @param certificateCoversHostName for built-in hubs: whether the running server's TLS certificate names the hub.
 *     False for a built-in hub added since the server started: devices connecting to it by name fail TLS until the
 *     server restarts (and re-issues its certificate); devices that connect through a gateway host name work at
 *     once. Null for webhook hubs.
 * @param etag the current etag (also in the {@code ETag} header)
 * @param createdDateTimeUtc when it was linked
 * @param lastUpdatedDateTimeUtc when it was last changed
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"hostName", "allocationWeight", "applyAllocationPolicy", "location", "connector",
        "certificateCoversHostName", "etag", "createdDateTimeUtc", "lastUpdatedDateTimeUtc"})
public record LinkedHubView(String hostName, int allocationWeight, boolean applyAllocationPolicy,
        @Nullable String location, ConnectorDocument connector, @Nullable Boolean certificateCoversHostName,
        String etag, String createdDateTimeUtc, String lastUpdatedDateTimeUtc) {

    /** The view of a stored hub; {@code certificateCovers} is only used for built-in hubs. */
    public static LinkedHubView of(StoredLinkedHub stored, boolean certificateCovers) {
        boolean webhook = stored.connector() == ConnectorType.WEBHOOK;
        ConnectorDocument connector = webhook
                ? new ConnectorDocument(stored.connector().wire(), maskQuery(stored.webhookUrl()),
                        ConnectorDocument.MASK)
                : new ConnectorDocument(stored.connector().wire(), null, null);
        return new LinkedHubView(stored.hostName(), stored.hub().allocationWeight(),
                stored.hub().applyAllocationPolicy(), stored.hub().location(), connector,
                webhook ? null : certificateCovers, stored.etag(), AzureTimestamps.format(stored.created()),
                AzureTimestamps.format(stored.updated()));
    }

    /** The URL with its query string (if any) replaced by {@code ****}. */
    static String maskQuery(@Nullable String url) {
        if (url == null) {
            return "";
        }
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q + 1) + ConnectorDocument.MASK;
    }
}
