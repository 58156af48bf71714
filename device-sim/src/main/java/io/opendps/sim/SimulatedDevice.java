package io.opendps.sim;

import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * One simulated DPS device: an MQTT 3.1.1 client, independent of the Azure SDKs, that provisions with a symmetric
 * key or an X.509 certificate exactly as the Azure quickstart samples do. Each {@link #provision()} runs CONNECT
 * (TLS 1.2/1.3, hostname verification on, clean session, keep-alive 60; a SAS password valid for one hour for a
 * symmetric key, or the certificate chain in the TLS handshake and no password for X.509), SUBSCRIBE
 * {@code $dps/registrations/res/#} at QoS 1, a QoS 1 register PUBLISH, QoS 1 status polls after each
 * {@code retry-after} (2 s by default) until a terminal status or an error answer, and DISCONNECT.
 *
 * <p>Everything runs on the shared {@link SimulatorRuntime}: no thread is created or blocked per device. The object
 * is immutable and thread-safe, but run one {@code provision()} at a time per device: the server keeps one
 * connection per client id.
 */
public final class SimulatedDevice {

    private final SimulatedDeviceOptions options;
    private final SimulatorRuntime runtime;
    private final Clock clock;

    /**
     * A device on the system clock.
     *
     * @param options the device's identity, credential and endpoint
     * @param runtime the shared threads
     */
    public SimulatedDevice(SimulatedDeviceOptions options, SimulatorRuntime runtime) {
        this(options, runtime, Clock.systemUTC());
    }

    /**
     * A device with an explicit clock (used for the SAS token expiry).
     *
     * @param options the device's identity, credential and endpoint
     * @param runtime the shared threads
     * @param clock the clock for the SAS expiry
     */
    public SimulatedDevice(SimulatedDeviceOptions options, SimulatorRuntime runtime, Clock clock) {
        this.options = Objects.requireNonNull(options, "options");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The device's options. */
    public SimulatedDeviceOptions options() {
        return options;
    }

    /**
     * Provisions the device once.
     *
     * @return a future that completes, after DISCONNECT, with the outcome; it never completes exceptionally for
     *     expected failures (refused connection, TLS failure, CONNACK/SUBACK refusal, error answers, timeout), and
     *     completes within the options' timeout plus a few seconds for DISCONNECT
     */
    public CompletableFuture<ProvisioningOutcome> provision() {
        return new ProvisioningFlow(options, runtime, clock).start();
    }
}
