package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.MessageDigest;
import java.security.Principal;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.Test;

class X509CredentialTest {

    private static final TestPki PKI = TestPki.create("credential test CA");

    @Test
    void commonName_subjectWithCn_isTheCn() {
        assertThat(PKI.device("CN=my-device-01, OU=devices, O=OpenDPS", "EC").credential().commonName())
                .contains("my-device-01");
        assertThat(PKI.device("O=OpenDPS", "EC").credential().commonName()).isEmpty();
    }

    @Test
    void thumbprint_always_isUpperCaseSha256OfTheLeafDer() throws Exception {
        TestPki.Device device = PKI.device("CN=dev-1", "EC");

        String thumbprint = device.credential().thumbprint();

        assertThat(thumbprint).matches("[0-9A-F]{64}").isEqualTo(HexFormat.of().withUpperCase()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(device.leaf().getEncoded())));
    }

    @Test
    void constructor_keyOfAnotherCertificate_isRejected() {
        TestPki.Device device = PKI.device("CN=dev-1", "EC");
        TestPki.Device other = PKI.device("CN=dev-2", "EC");

        assertThatThrownBy(() -> new X509Credential(List.of(device.leaf()), other.privateKey()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not belong")
                .hasMessageContaining("CN=dev-1");
        TestPki.Device rsa = PKI.device("CN=dev-rsa", "RSA");
        assertThatThrownBy(() -> new X509Credential(List.of(rsa.leaf()), PKI.device("CN=x", "RSA").privateKey()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new X509Credential(List.of(rsa.leaf()), device.privateKey()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new X509Credential(List.of(), device.privateKey()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
    }

    @Test
    void toString_always_redactsTheKey() {
        TestPki.Device device = PKI.device("CN=dev-1", "RSA");

        assertThat(device.credential().toString()).contains("CN=dev-1").contains("chainLength=2")
                .contains("<redacted>").doesNotContain(device.privateKey().toString());
    }

    @Test
    void keyManagerFactory_anyIssuersRequested_offersTheWholeChainForTheKeysType() {
        TestPki.Device device = PKI.device("CN=dev-1", "EC");
        X509ExtendedKeyManager manager = (X509ExtendedKeyManager) device.credential().keyManagerFactory()
                .getKeyManagers()[0];
        Principal[] unrelatedIssuers = {TestPki.create("unrelated CA").ca().getSubjectX500Principal()};

        String alias = manager.chooseEngineClientAlias(new String[] {"RSA", "EC"}, unrelatedIssuers, null);

        assertThat(alias).isNotNull();
        assertThat(manager.chooseClientAlias(new String[] {"EC_RSA"}, null, null)).isEqualTo(alias);
        assertThat(manager.getCertificateChain(alias)).containsExactly(device.leaf(), device.intermediate());
        assertThat(manager.getPrivateKey(alias)).isEqualTo(device.privateKey());
        assertThat(manager.chooseEngineClientAlias(new String[] {"RSA", "RSASSA-PSS"}, null, null)).isNull();
        assertThat(manager.chooseEngineServerAlias("EC", null, null)).isNull();
    }

    @Test
    void keyManagerFactory_rsaKey_isOfferedForRsa() {
        X509ExtendedKeyManager manager = (X509ExtendedKeyManager) PKI.device("CN=dev-1", "RSA").credential()
                .keyManagerFactory().getKeyManagers()[0];

        assertThat(manager.chooseEngineClientAlias(new String[] {"EC"}, null, null)).isNull();
        assertThat(manager.chooseEngineClientAlias(new String[] {"RSA"}, null, null)).isNotNull();
        assertThat(manager.getClientAliases("RSA", null)).hasSize(1);
    }
}
