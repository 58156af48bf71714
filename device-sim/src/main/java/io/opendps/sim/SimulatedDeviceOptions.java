package io.opendps.sim;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Base64;
import java.util.Objects;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;

/**
 * Everything one simulated device needs to provision with a symmetric key over MQTT/TLS.
 *
 * <p>Immutable and validated on construction. {@link #toString()} never shows the key.
 *
 * @param host the DPS host name; also the name the server certificate must carry (hostname verification is on)
 * @param port the MQTT/TLS port (8883 on Azure)
 * @param idScope the ID scope
 * @param registrationId the registration id (also the MQTT client id)
 * @param symmetricKey the device key, base64: an individual enrollment key or a key derived from a group key
 * @param payload the custom {@code payload} of the register request, or {@code null} to send none
 * @param trustManagerFactory the trust for the server certificate, or {@code null} for the JVM's default trust store
 * @param timeout the limit for the whole attempt, from the first TCP packet to the terminal answer
 * @throws IllegalArgumentException if a text is empty, the port is out of range, the key is not base64 or the
 *     timeout is not positive
 */
public record SimulatedDeviceOptions(
        String host,
        int port,
        String idScope,
        String registrationId,
        String symmetricKey,
        @Nullable JsonNode payload,
        @Nullable TrustManagerFactory trustManagerFactory,
        Duration timeout) {

    /** The MQTT/TLS port every Azure SDK uses. */
    public static final int DEFAULT_PORT = 8883;

    /** The default limit for one attempt. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    public SimulatedDeviceOptions {
        requireText(host, "host");
        requireText(idScope, "idScope");
        requireText(registrationId, "registrationId");
        requireText(symmetricKey, "symmetricKey");
        Objects.requireNonNull(timeout, "timeout");
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port must be 1..65535: " + port);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        decodeKey(symmetricKey);
    }

    /**
     * Options with no payload, the JVM's default trust and the default timeout.
     *
     * @return the options; refine them with the {@code with*} methods
     */
    public static SimulatedDeviceOptions of(String host, int port, String idScope, String registrationId,
            String symmetricKey) {
        return new SimulatedDeviceOptions(host, port, idScope, registrationId, symmetricKey, null, null,
                DEFAULT_TIMEOUT);
    }

    /** A copy with a custom register payload ({@code null} for none). */
    public SimulatedDeviceOptions withPayload(@Nullable JsonNode value) {
        return new SimulatedDeviceOptions(host, port, idScope, registrationId, symmetricKey, value,
                trustManagerFactory, timeout);
    }

    /** A copy trusting the given factory's roots ({@code null} for the JVM default). */
    public SimulatedDeviceOptions withTrust(@Nullable TrustManagerFactory value) {
        return new SimulatedDeviceOptions(host, port, idScope, registrationId, symmetricKey, payload, value,
                timeout);
    }

    /** A copy with another overall timeout. */
    public SimulatedDeviceOptions withTimeout(Duration value) {
        return new SimulatedDeviceOptions(host, port, idScope, registrationId, symmetricKey, payload,
                trustManagerFactory, value);
    }

    /** The decoded device key (a fresh copy). */
    public byte[] deviceKey() {
        return decodeKey(symmetricKey);
    }

    /** {@code host:port}, for messages. */
    public String endpoint() {
        return host + ":" + port;
    }

    @Override
    public String toString() {
        return "SimulatedDeviceOptions[endpoint=" + endpoint() + ", idScope=" + idScope + ", registrationId="
                + registrationId + ", symmetricKey=<redacted>, payload=" + payload + ", timeout=" + timeout + "]";
    }

    private static void requireText(String value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(name + " must not be empty");
        }
    }

    private static byte[] decodeKey(String base64) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("symmetricKey is not valid base64 (standard alphabet expected)", e);
        }
        if (key.length == 0) {
            throw new IllegalArgumentException("symmetricKey decodes to no bytes");
        }
        return key;
    }
}
