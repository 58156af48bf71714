package io.opendps.broker.hub;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.broker.OpenDpsServer;
import io.opendps.broker.ServerOptions;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.linkedhub.LinkedHubRequest;
import io.opendps.core.linkedhub.LinkedHubView;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Linked hubs across restarts: the first start seeds, {@code --hub} names are added when missing without undoing
 * API changes, and the server certificate presented on the device port names every stored built-in hub after a
 * restart (a hub linked at run time is reported as not yet covered until then).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LinkedHubStartupIT {

    private static final String HUB_1 = "hub-1.opendps.local";
    private static final String HUB_2 = "hub-2.opendps.local";
    private static final String HUB_3 = "hub-3.opendps.local";

    @TempDir
    Path dataDir;

    @Test
    void restart_keepsApiChanges_addsMissingFlagHubs_andCertifiesStoredBuiltInHubs() throws Exception {
        try (OpenDpsServer server = OpenDpsServer.start(ServerOptions.forTests(dataDir))) {
            assertThat(server.linkedHubs().hubs()).containsExactly(LinkedHub.of(HUB_1));
            LinkedHubView hub1 = server.linkedHubs().get(HUB_1);
            server.linkedHubs().put(HUB_1, new LinkedHubRequest(null, 5, true, "northeurope", null), hub1.etag(),
                    "test");
            LinkedHubView added = server.linkedHubs().put(HUB_2, new LinkedHubRequest(null, 1, true, null, null),
                    null, "test");
            assertThat(added.certificateCoversHostName()).isFalse();
            assertThat(server.hub().serves(HUB_2)).isTrue();
            assertThat(presentedNames(server)).contains(HUB_1).doesNotContain(HUB_2);
        }

        try (OpenDpsServer server = OpenDpsServer.start(ServerOptions.forTests(dataDir)
                .withHubs(List.of(HUB_1, HUB_3)))) {
            assertThat(server.linkedHubs().hubs()).containsExactly(new LinkedHub(HUB_1, 5, true, "northeurope"),
                    LinkedHub.of(HUB_2), LinkedHub.of(HUB_3));
            assertThat(server.linkedHubs().get(HUB_2).certificateCoversHostName()).isTrue();
            assertThat(presentedNames(server)).contains(HUB_1, HUB_2, HUB_3);
            assertThat(server.info().hubs()).containsExactly(HUB_1, HUB_2, HUB_3);
        }
    }

    /** The DNS names of the certificate the device port presents. */
    private static List<String> presentedNames(OpenDpsServer server) throws Exception {
        try (SSLSocket socket = (SSLSocket) TlsMaterial.trustingClientContext(server.info().caCertificate())
                .getSocketFactory().createSocket("127.0.0.1", server.info().mqttPort())) {
            socket.startHandshake();
            X509Certificate cert = (X509Certificate) socket.getSession().getPeerCertificates()[0];
            Collection<List<?>> sans = Objects.requireNonNull(cert.getSubjectAlternativeNames());
            return sans.stream().map(san -> String.valueOf(san.get(1))).toList();
        }
    }
}
