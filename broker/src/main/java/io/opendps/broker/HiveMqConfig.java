package io.opendps.broker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the embedded HiveMQ's {@code config.xml}: one TLS listener (TLS 1.3 and 1.2, client certificates
 * optional), publish QoS capped at 1 (the SUBACK QoS cap is the DPS extension's job: {@code max-qos} does not
 * lower a granted QoS 2), no retained messages, in-memory
 * persistence (DPS state lives in our store, not in broker sessions) and no usage statistics (no calls home).
 *
 * <p>Client certificates: {@code OPTIONAL} makes HiveMQ's Netty context <em>want</em> (not need) a certificate, so
 * SAS devices connect without one. The {@code <truststore>} must be the one written by
 * {@link io.opendps.broker.tls.DeviceClientTrust#writeTruststore}, with
 * {@link io.opendps.broker.tls.DeviceClientTrust#install} done before the broker starts: HiveMQ initialises the
 * default-algorithm {@code TrustManagerFactory} with it, which then advertises no issuers and lets any chain through
 * the handshake. Without a truststore HiveMQ would fall back to the JDK's {@code cacerts} (public roots advertised,
 * private device CAs refused).
 */
final class HiveMqConfig {

    private HiveMqConfig() {
    }

    /**
     * @param keystore PKCS#12 with the server key and chain; {@code password} protects it and its key entry
     * @param truststore the device trust store; {@code password} protects it too
     */
    static void write(Path configFolder, String bindAddress, int port, Path keystore, Path truststore,
            String password) throws IOException {
        Files.createDirectories(configFolder);
        String xml = """
                <?xml version="1.0"?>
                <hivemq>
                    <listeners>
                        <tls-tcp-listener>
                            <port>%d</port>
                            <bind-address>%s</bind-address>
                            <name>dps-mqtt-tls</name>
                            <tls>
                                <keystore>
                                    <path>%s</path>
                                    <password>%s</password>
                                    <private-key-password>%s</private-key-password>
                                </keystore>
                                <truststore>
                                    <path>%s</path>
                                    <password>%s</password>
                                </truststore>
                                <protocols>
                                    <protocol>TLSv1.3</protocol>
                                    <protocol>TLSv1.2</protocol>
                                </protocols>
                                <client-authentication-mode>OPTIONAL</client-authentication-mode>
                            </tls>
                        </tls-tcp-listener>
                    </listeners>
                    <mqtt>
                        <quality-of-service>
                            <max-qos>1</max-qos>
                        </quality-of-service>
                        <retained-messages>
                            <enabled>false</enabled>
                        </retained-messages>
                        <keep-alive>
                            <allow-unlimited>true</allow-unlimited>
                        </keep-alive>
                    </mqtt>
                    <persistence>
                        <mode>in-memory</mode>
                    </persistence>
                    <anonymous-usage-statistics>
                        <enabled>false</enabled>
                    </anonymous-usage-statistics>
                </hivemq>
                """.formatted(port, escape(bindAddress), escape(keystore.toAbsolutePath().toString()), password,
                password, escape(truststore.toAbsolutePath().toString()), password);
        Path file = configFolder.resolve("config.xml");
        Files.writeString(file, xml, StandardCharsets.UTF_8);
        FilePermissions.ownerOnly(file);
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
