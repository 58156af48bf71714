package io.opendps.core.hub;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.time.Instant;
import java.util.Map;

/**
 * One device-to-cloud message in a built-in hub's telemetry log.
 *
 * @param sequence the message's position; strictly increasing within a hub (a read cursor), not dense
 * @param hub the hub host name
 * @param deviceId the sending device
 * @param enqueuedTimeUtc when the hub accepted it
 * @param properties the property bag from the topic ({@code $.ct}, {@code $.ce}, application properties),
 *     percent-decoded
 * @param body the payload bytes as sent (base64 in JSON)
 */
@JsonPropertyOrder({"sequence", "hub", "deviceId", "enqueuedTimeUtc", "properties", "body"})
public record HubMessage(long sequence, String hub, String deviceId, Instant enqueuedTimeUtc,
        Map<String, String> properties, byte[] body) {

    public HubMessage {
        properties = Map.copyOf(properties);
        body = body.clone();
    }

    @Override
    public byte[] body() {
        return body.clone();
    }
}
