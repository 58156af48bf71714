package io.opendps.broker.mqtt;

import com.hivemq.extension.sdk.api.auth.SimpleAuthenticator;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthInput;
import com.hivemq.extension.sdk.api.auth.parameter.SimpleAuthOutput;
import com.hivemq.extension.sdk.api.client.parameter.ClientTlsInformation;
import com.hivemq.extension.sdk.api.client.parameter.ConnectionInformation;
import com.hivemq.extension.sdk.api.packets.connect.ConnackReasonCode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands a CONNECT whose username is an IoT Hub username ({@link HubUsername}) to the {@link HubEndpoint}, which
 * checks the device's credential at CONNECT. Accepts a CONNECT whose username is a DPS username and keeps its parts and the SAS (the password) for the
 * registrar, which authenticates the device on its register request: that is how the cloud service behaves
 * (a wrong key is a 401 answer to the register, the most informative path for every SDK). Only an
 * unparseable username is refused at CONNECT, with CONNACK 5 ("not authorized"). No blocking work here.
 *
 * <p>This is also the one place that reads the TLS facts: the client certificate chain the device presented (leaf
 * first; X.509 devices send a username and no password) is captured here into the {@link DeviceConnection}. The
 * handshake let any chain through and only proved possession of the leaf's key; the registrar validates the chain.
 */
final class DpsAuthenticator implements SimpleAuthenticator {

    static final String CONNECTION_TOKEN = "opendps.connection";
    private static final Logger LOG = LoggerFactory.getLogger(DpsAuthenticator.class);
    private static final Logger AUDIT = LoggerFactory.getLogger("io.opendps.audit");

    private final ConnectedDeviceRegistry registry;
    private final HubEndpoint hub;

    DpsAuthenticator(ConnectedDeviceRegistry registry, HubEndpoint hub) {
        this.registry = registry;
        this.hub = hub;
    }

    @Override
    public void onConnect(SimpleAuthInput input, SimpleAuthOutput output) {
        String clientId = input.getClientInformation().getClientId();
        String rawUsername = input.getConnectPacket().getUserName().orElse(null);
        Optional<HubUsername> hubUsername = rawUsername == null ? Optional.empty() : HubUsername.parse(rawUsername);
        if (hubUsername.isPresent()) {
            hub.authenticate(input, output, hubUsername.get(), password(input.getConnectPacket().getPassword()
                    .orElse(null)));
            return;
        }
        DpsUsername username;
        try {
            if (rawUsername == null) {
                throw new IllegalArgumentException("no username; a DPS device connects with "
                        + "'{idScope}/registrations/{registrationId}/api-version=...'");
            }
            username = DpsUsername.parse(rawUsername);
        } catch (IllegalArgumentException e) {
            AUDIT.info("mqtt connect refused [client-id: {}, reason: {}]", clientId, e.getMessage());
            output.failAuthentication(ConnackReasonCode.NOT_AUTHORIZED, e.getMessage());
            return;
        }
        String token = UUID.randomUUID().toString();
        input.getConnectionInformation().getConnectionAttributeStore().putAsString(CONNECTION_TOKEN, token);
        DeviceConnection connection = new DeviceConnection(token, username,
                password(input.getConnectPacket().getPassword().orElse(null)),
                clientCertificates(input.getConnectionInformation()));
        registry.connected(clientId, connection);
        LOG.debug("device connected [client-id: {}, api-version: {}, connection: {}]", clientId,
                username.apiVersion(), connection);
        output.authenticateSuccessfully();
    }

    /** The chain presented in the TLS handshake, leaf first; empty when the device sent no certificate. */
    static List<X509Certificate> clientCertificates(ConnectionInformation connection) {
        Optional<ClientTlsInformation> tls = connection.getClientTlsInformation();
        Optional<X509Certificate[]> chain = tls.flatMap(ClientTlsInformation::getClientCertificateChain);
        if (chain.isPresent() && chain.get().length > 0) {
            return List.copyOf(Arrays.asList(chain.get()));
        }
        return tls.flatMap(ClientTlsInformation::getClientCertificate).map(List::of).orElse(List.of());
    }

    private static @Nullable String password(@Nullable ByteBuffer password) {
        if (password == null) {
            return null;
        }
        ByteBuffer copy = password.asReadOnlyBuffer();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
