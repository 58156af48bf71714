package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceFileTest {

    @TempDir
    Path dataDir;

    @Test
    void read_serverFile_readsTheDeviceFieldsAndIgnoresTheRest() throws IOException {
        Files.writeString(dataDir.resolve("service.json"), """
                {"idScope":"0ne0123ABCD","caCertificate":"/abs/path/ca.pem","mqttEndpoint":"localhost:18883",
                 "httpsEndpoint":"localhost:18443","serviceConnectionString":"HostName=x;..."}""");

        ServiceFile file = ServiceFile.read(dataDir).orElseThrow();

        assertThat(file.idScope()).isEqualTo("0ne0123ABCD");
        assertThat(file.caCertificatePath(dataDir)).contains(Path.of("/abs/path/ca.pem"));
        assertThat(file.mqttPort()).hasValue(18883);
        assertThat(file.httpsPort()).hasValue(18443);
    }

    @Test
    void read_noFile_isEmpty() throws IOException {
        assertThat(ServiceFile.read(dataDir)).isEmpty();
    }

    @Test
    void read_invalidJson_throws() throws IOException {
        Files.writeString(dataDir.resolve("service.json"), "{idScope");

        assertThatThrownBy(() -> ServiceFile.read(dataDir)).isInstanceOf(IOException.class);
    }

    @Test
    void caCertificatePath_relative_isResolvedAgainstTheDataDir() {
        assertThat(new ServiceFile(null, "tls/ca.pem", null).caCertificatePath(dataDir))
                .contains(dataDir.resolve("tls/ca.pem"));
        assertThat(new ServiceFile(null, null, null).caCertificatePath(dataDir)).isEmpty();
    }

    @Test
    void mqttPort_variousEndpoints_parsesOnlyValidPorts() {
        assertThat(new ServiceFile(null, null, "[::1]:8884").mqttPort()).hasValue(8884);
        assertThat(new ServiceFile(null, null, "dps.example.com:443").mqttPort()).hasValue(443);
        assertThat(new ServiceFile(null, null, "dps.example.com").mqttPort()).isEmpty();
        assertThat(new ServiceFile(null, null, "[::1]").mqttPort()).isEmpty();
        assertThat(new ServiceFile(null, null, "host:abc").mqttPort()).isEmpty();
        assertThat(new ServiceFile(null, null, "host:70000").mqttPort()).isEmpty();
        assertThat(new ServiceFile(null, null, null).mqttPort()).isEmpty();
        assertThat(new ServiceFile(null, null, null, "[::1]:8443").httpsPort()).hasValue(8443);
        assertThat(new ServiceFile(null, null, null, "host:0").httpsPort()).isEmpty();
        assertThat(new ServiceFile(null, null, null).httpsPort()).isEmpty();
    }
}
