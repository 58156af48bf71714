package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrustMaterialTest {

    @TempDir
    Path dir;

    @Test
    void fromPem_caFile_trustsExactlyThatCa() throws Exception {
        TestPki pki = TestPki.create("trust test CA");

        TrustManagerFactory factory = TrustMaterial.fromPem(pki.writeCaPem(dir.resolve("ca.pem")));

        X509TrustManager manager = (X509TrustManager) Arrays.stream(factory.getTrustManagers())
                .filter(X509TrustManager.class::isInstance).findFirst().orElseThrow();
        assertThat(manager.getAcceptedIssuers()).containsExactly(pki.ca());
    }

    @Test
    void fromPem_fileWithoutCertificate_throws() throws IOException {
        Path empty = Files.writeString(dir.resolve("empty.pem"), "");

        assertThatThrownBy(() -> TrustMaterial.fromPem(empty)).isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void fromPem_missingFile_throwsIoException() {
        assertThatThrownBy(() -> TrustMaterial.fromPem(dir.resolve("absent.pem"))).isInstanceOf(IOException.class);
    }
}
