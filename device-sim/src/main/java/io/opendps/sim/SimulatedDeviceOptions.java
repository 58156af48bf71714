package io.opendps.sim;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;

/**
 * Everything one simulated device needs to provision over MQTT/TLS, with a symmetric key or an X.509 certificate.
 *
 * <p>Immutable and validated on construction. {@link #toString()} never shows a key.
 *
 * @param host the DPS host name; also the name the server certificate must carry (hostname verification is on)
 * @param port the MQTT/TLS port (8883 on Azure)
 * @param idScope the ID scope
 * @param registrationId the registration id (also the MQTT client id); for X.509 DPS expects the leaf's subject CN
 *     ({@link #ofX509} uses it), but any id is accepted so that mismatches can be tested
 * @param credential a {@link SymmetricKeyCredential} (SAS token as the MQTT password) or an {@link X509Credential}
 *     (chain presented in the TLS handshake, no MQTT password)
 * @param payload the custom {@code payload} of the register request, or {@code null} to send none
 * @param trustManagerFactory the trust for the server certificate, or {@code null} for the JVM's default trust store
 * @param timeout the limit for the whole attempt, from the first TCP packet to the terminal answer
 * @throws IllegalArgumentException if a text is empty, the port is out of range or the timeout is not positive
 */
public record SimulatedDeviceOptions(
        String host,
        int port,
        String idScope,
        String registrationId,
        DeviceCredential credential,
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
        Objects.requireNonNull(credential, "credential");
        Objects.requireNonNull(timeout, "timeout");
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("port must be 1..65535: " + port);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
    }

    /**
     * Options for a symmetric-key device.
     *
     * @param symmetricKey the device key, base64: an individual enrollment key or a key derived from a group key
     * @throws IllegalArgumentException also if the key is not base64
     */
    public SimulatedDeviceOptions(String host, int port, String idScope, String registrationId, String symmetricKey,
            @Nullable JsonNode payload, @Nullable TrustManagerFactory trustManagerFactory, Duration timeout) {
        this(host, port, idScope, registrationId, new SymmetricKeyCredential(symmetricKey), payload,
                trustManagerFactory, timeout);
    }

    /**
     * Options for a symmetric-key device with no payload, the JVM's default trust and the default timeout.
     *
     * @return the options; refine them with the {@code with*} methods
     * @throws IllegalArgumentException if the key is not base64, or as the constructor
     */
    public static SimulatedDeviceOptions of(String host, int port, String idScope, String registrationId,
            String symmetricKey) {
        return new SimulatedDeviceOptions(host, port, idScope, registrationId, symmetricKey, null, null,
                DEFAULT_TIMEOUT);
    }

    /**
     * Options for an X.509 device whose registration id is the leaf certificate's subject CN, with no payload, the
     * JVM's default trust and the default timeout.
     *
     * @return the options; refine them with the {@code with*} methods
     * @throws IllegalArgumentException if the leaf's subject has no CN (give the id with {@link #ofX509(String,
     *     int, String, String, X509Credential)}), or as the constructor
     */
    public static SimulatedDeviceOptions ofX509(String host, int port, String idScope, X509Credential credential) {
        String commonName = credential.commonName().orElseThrow(() -> new IllegalArgumentException(
                "the certificate subject " + credential.leaf().getSubjectX500Principal().getName()
                        + " has no CN; give the registration id explicitly"));
        return ofX509(host, port, idScope, commonName, credential);
    }

    /**
     * Options for an X.509 device with an explicit registration id, no payload, the JVM's default trust and the
     * default timeout.
     *
     * @return the options; refine them with the {@code with*} methods
     */
    public static SimulatedDeviceOptions ofX509(String host, int port, String idScope, String registrationId,
            X509Credential credential) {
        return new SimulatedDeviceOptions(host, port, idScope, registrationId, credential, null, null,
                DEFAULT_TIMEOUT);
    }

    /** A copy with another registration id (and MQTT client id). */
    public SimulatedDeviceOptions withRegistrationId(String value) {
        return new SimulatedDeviceOptions(host, port, idScope, value, credential, payload, trustManagerFactory,
                timeout);
    }

    /** A copy with a custom register payload ({@code null} for none). */
    public SimulatedDeviceOptions withPayload(@Nullable JsonNode value) {
        return new SimulatedDeviceOptions(host, port, idScope, registrationId, credential, value,
                trustManagerFactory, timeout);
    }

    /** A copy trusting the given factory's roots ({@code null} for the JVM default). */
    public SimulatedDeviceOptions withTrust(@Nullable TrustManagerFactory value) {
        return new SimulatedDeviceOptions(host, port, idScope, registrationId, credential, payload, value,
                timeout);
    }

    /** A copy with another overall timeout. */
    public SimulatedDeviceOptions withTimeout(Duration value) {
        return new SimulatedDeviceOptions(host, port, idScope, registrationId, credential, payload,
                trustManagerFactory, value);
    }

    /** {@code host:port}, for messages. */
    public String endpoint() {
        return host + ":" + port;
    }

    @Override
    public String toString() {
        return "SimulatedDeviceOptions[endpoint=" + endpoint() + ", idScope=" + idScope + ", registrationId="
                + registrationId + ", credential=" + credential + ", payload=" + payload + ", timeout=" + timeout
                + "]";
    }

    private static void requireText(String value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(name + " must not be empty");
        }
    }
}
