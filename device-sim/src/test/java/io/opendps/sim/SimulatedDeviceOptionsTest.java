package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SimulatedDeviceOptionsTest {

    private static final String KEY = SimulatedDeviceTest.KEY;
    private static final TestPki PKI = TestPki.create("options test CA");

    @Test
    void of_minimal_usesDefaults() {
        SimulatedDeviceOptions options = SimulatedDeviceOptions.of("localhost", 8883, "0ne1", "dev-1", KEY);

        assertThat(options.timeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(options.payload()).isNull();
        assertThat(options.trustManagerFactory()).isNull();
        assertThat(options.endpoint()).isEqualTo("localhost:8883");
        assertThat(options.credential()).isInstanceOfSatisfying(SymmetricKeyCredential.class,
                key -> assertThat(key.deviceKey()).isEqualTo(Base64.getDecoder().decode(KEY)));
    }

    @Test
    void toString_always_redactsTheKey() {
        assertThat(SimulatedDeviceOptions.of("localhost", 8883, "0ne1", "dev-1", KEY).toString())
                .doesNotContain(KEY).contains("<redacted>").contains("dev-1");
    }

    @Test
    void constructor_invalidValues_areRejected() {
        assertThatThrownBy(() -> SimulatedDeviceOptions.of("localhost", 8883, "0ne1", "dev-1", "not base64!"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("base64");
        assertThatThrownBy(() -> SimulatedDeviceOptions.of("localhost", 0, "0ne1", "dev-1", KEY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port");
        assertThatThrownBy(() -> SimulatedDeviceOptions.of("", 8883, "0ne1", "dev-1", KEY))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("host");
        assertThatThrownBy(() -> SimulatedDeviceOptions.of("localhost", 8883, "0ne1", "dev-1", KEY)
                .withTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout");
    }

    @Test
    void ofX509_certificateWithCn_usesTheCnAsRegistrationId() {
        X509Credential credential = PKI.device("CN=sensor-42, O=OpenDPS", "EC").credential();

        SimulatedDeviceOptions options = SimulatedDeviceOptions.ofX509("localhost", 8883, "0ne1", credential);

        assertThat(options.registrationId()).isEqualTo("sensor-42");
        assertThat(options.credential()).isSameAs(credential);
        assertThat(options.timeout()).isEqualTo(SimulatedDeviceOptions.DEFAULT_TIMEOUT);
    }

    @Test
    void ofX509_certificateWithoutCn_isRejectedAskingForAnId() {
        X509Credential credential = PKI.device("O=OpenDPS, OU=no common name", "EC").credential();

        assertThatThrownBy(() -> SimulatedDeviceOptions.ofX509("localhost", 8883, "0ne1", credential))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no CN");
        assertThat(SimulatedDeviceOptions.ofX509("localhost", 8883, "0ne1", "explicit-id", credential)
                .registrationId()).isEqualTo("explicit-id");
    }

    @Test
    void withRegistrationId_x509_overridesTheCnAndKeepsTheRest() {
        X509Credential credential = PKI.device("CN=sensor-42", "EC").credential();

        SimulatedDeviceOptions options = SimulatedDeviceOptions.ofX509("localhost", 8883, "0ne1", credential)
                .withTimeout(Duration.ofSeconds(5)).withRegistrationId("other-id");

        assertThat(options.registrationId()).isEqualTo("other-id");
        assertThat(options.credential()).isSameAs(credential);
        assertThat(options.timeout()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void toString_x509_namesTheCertificateButNotTheKey() {
        TestPki.Device device = PKI.device("CN=sensor-42", "EC");
        SimulatedDeviceOptions options = SimulatedDeviceOptions.ofX509("localhost", 8883, "0ne1",
                device.credential());

        assertThat(options.toString()).contains("CN=sensor-42").contains(device.credential().thumbprint())
                .contains("privateKey=<redacted>");
    }
}
