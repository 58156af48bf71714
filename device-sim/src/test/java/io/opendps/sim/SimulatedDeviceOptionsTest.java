package io.opendps.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SimulatedDeviceOptionsTest {

    private static final String KEY = SimulatedDeviceTest.KEY;

    @Test
    void of_minimal_usesDefaults() {
        SimulatedDeviceOptions options = SimulatedDeviceOptions.of("localhost", 8883, "0ne1", "dev-1", KEY);

        assertThat(options.timeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(options.payload()).isNull();
        assertThat(options.trustManagerFactory()).isNull();
        assertThat(options.endpoint()).isEqualTo("localhost:8883");
        assertThat(options.deviceKey()).isEqualTo(Base64.getDecoder().decode(KEY));
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
}
