package io.opendps.sim;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.json.Json;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.tpm.TpmAttestor;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * TPM attestation over MQTT, device side ({@code dps-device-protocol.md} §7.3 carried over the standard DPS MQTT
 * topics): attempt 1 connects <em>without</em> a password and registers with {@code tpm} {EK, SRK} in the body;
 * the server answers {@code $dps/registrations/res/401/?$rid=..} with {@code {"authenticationKey", "keyName"}}. The
 * TPM imports the key (ActivateCredential, Import, Load, persist). Attempt 2 is a new connection whose MQTT password
 * is a SAS token signed by the TPM ({@code TPM2_HMAC} over {@code sr + "\n" + se}); it registers with the same body
 * and polls until the terminal answer. An {@code assigned} answer's {@code registrationState.tpm.authenticationKey}
 * is imported again, as the Azure SDKs do (the same key; it is the device's hub key). Blocking.
 */
final class TpmProvisioning {

    private static final Duration SAS_LIFETIME = Duration.ofHours(1);
    private static final Duration WAIT_MARGIN = Duration.ofSeconds(10);

    /**
     * The outcome of the TPM flow.
     *
     * @param outcome the last attempt's outcome (the challenge attempt's if no challenge came)
     * @param challenged whether a challenge was received and imported
     * @param finalKeyImported whether the final authenticationKey was imported into the TPM
     */
    record Result(ProvisioningOutcome outcome, boolean challenged, boolean finalKeyImported) {
    }

    private TpmProvisioning() {
    }

    /**
     * Runs both attempts with {@code options} (its credential a {@link TpmCredential} without token).
     *
     * @throws Tpm2Tools.TpmException when the TPM cannot answer the challenge (another TPM's challenge ends here)
     */
    static Result provision(SimulatedDeviceOptions options, Tpm2Tools tpm, SimulatorRuntime runtime, Clock clock)
            throws Tpm2Tools.TpmException, InterruptedException {
        return provision(options, tpm, o -> attempt(o, runtime, clock), clock);
    }

    /** One provisioning attempt over some transport (MQTT: {@link SimulatedDevice}; HTTPS: {@link DpsHttps}). */
    @FunctionalInterface
    interface Attempt {
        ProvisioningOutcome run(SimulatedDeviceOptions options) throws InterruptedException;
    }

    /**
     * Runs both attempts with {@code options} over the given transport; the challenge and the answer are the same
     * over MQTT and HTTPS (over HTTPS the token goes in the {@code Authorization} header).
     *
     * @throws Tpm2Tools.TpmException when the TPM cannot answer the challenge
     */
    static Result provision(SimulatedDeviceOptions options, Tpm2Tools tpm, Attempt attempt, Clock clock)
            throws Tpm2Tools.TpmException, InterruptedException {
        TpmCredential credential = (TpmCredential) options.credential();
        ProvisioningOutcome first = attempt.run(options);
        String challenge = challenge(first);
        if (challenge == null) {
            return new Result(first, false, false);
        }
        tpm.importActivationBlob(challenge);
        String resource = options.idScope() + "/registrations/" + options.registrationId();
        long expiry = clock.instant().plus(SAS_LIFETIME).getEpochSecond();
        byte[] signature = tpm.hmac(SasSigner.stringToSign(resource, expiry));
        String token = SasSigner.token(resource, expiry, signature, TpmAttestor.KEY_NAME);
        SimulatedDeviceOptions answering = new SimulatedDeviceOptions(options.host(), options.port(),
                options.idScope(), options.registrationId(), credential.withSasToken(token), options.payload(),
                options.trustManagerFactory(), options.timeout());
        ProvisioningOutcome second = attempt.run(answering);
        DeviceRegistrationState state = second.registrationState();
        boolean imported = false;
        if (second.assigned() && state != null && state.tpm() != null) {
            tpm.importActivationBlob(state.tpm().authenticationKey());
            imported = true;
        }
        return new Result(second, true, imported);
    }

    /** The {@code authenticationKey} of a 401 challenge answer, or null when the answer is something else. */
    static @Nullable String challenge(ProvisioningOutcome outcome) {
        if (outcome.kind() != ProvisioningOutcome.Kind.ERROR_RESPONSE || outcome.status() != 401
                || outcome.responseBody() == null) {
            return null;
        }
        try {
            JsonNode body = Json.mapper().readTree(outcome.responseBody());
            JsonNode key = body == null ? null : body.get("authenticationKey");
            return key != null && key.isTextual() && !body.has("status") ? key.asText() : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static ProvisioningOutcome attempt(SimulatedDeviceOptions options, SimulatorRuntime runtime,
            Clock clock) throws InterruptedException {
        try {
            return new SimulatedDevice(options, runtime, clock).provision()
                    .get(options.timeout().plus(WAIT_MARGIN).toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return ProvisioningOutcome.transportFailure(options.registrationId(),
                    "the simulated device did not finish: " + e, new ProvisioningOutcome.Timings(null, null, null,
                            Duration.ZERO));
        }
    }
}
