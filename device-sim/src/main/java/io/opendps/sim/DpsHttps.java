package io.opendps.sim;

import io.opendps.core.json.Json;
import io.opendps.core.registration.DeviceRegistration;
import io.opendps.core.sas.SasSigner;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import org.jspecify.annotations.Nullable;

/**
 * One provisioning attempt over the HTTPS device API ({@code dps-device-protocol.md} §6) with the JDK
 * {@link HttpClient}: {@code PUT {idScope}/registrations/{id}/register}, then {@code GET .../operations/{operationId}}
 * after each {@code Retry-After} until a terminal answer. The options' {@code port} is the HTTPS port here. A
 * symmetric key signs a SAS token ({@code skn=registration}) for the {@code Authorization} header; X.509 presents
 * its chain in the TLS handshake (no header); a TPM sends {@code tpm} in the body and either no header (asking for
 * the challenge) or its TPM-signed token. Answers go through {@link ResponseReaction}, as over MQTT, so outcomes and
 * printed results match the MQTT flow; the {@code connectAndSubscribe} timing is null (there is no session).
 * Blocking; expected failures are outcomes, never exceptions.
 */
final class DpsHttps {

    private static final Duration SAS_LIFETIME = Duration.ofHours(1);
    private static final String USER_AGENT = "opendps-device-sim/0.1";

    private final SimulatedDeviceOptions options;
    private final Clock clock;

    DpsHttps(SimulatedDeviceOptions options, Clock clock) {
        this.options = options;
        this.clock = clock;
    }

    /** Registers and polls until a terminal answer, an error answer, a transport failure or the timeout. */
    ProvisioningOutcome provision() throws InterruptedException {
        long start = System.nanoTime();
        Instant deadline = clock.instant().plus(options.timeout());
        HttpClient client;
        try {
            client = HttpClient.newBuilder().sslContext(sslContext()).connectTimeout(options.timeout())
                    .version(HttpClient.Version.HTTP_1_1).build();
        } catch (GeneralSecurityException e) {
            return failure("cannot set up TLS: " + e.getMessage(), start, null, null);
        }
        String base = "https://" + hostForUri() + ":" + options.port() + "/" + encode(options.idScope())
                + "/registrations/" + encode(options.registrationId());
        byte[] body = Json.toBytes(new DeviceRegistration(options.registrationId(),
                options.credential() instanceof TpmCredential tpm ? tpm.body() : null, options.payload()));
        HttpRequest register = request(URI.create(base + "/register?api-version=" + DpsMqtt.API_VERSION), deadline)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        ResponseReaction reaction;
        try {
            reaction = send(client, register);
        } catch (IOException e) {
            return failure("the register request failed: " + e, start, null, null);
        }
        Duration registered = since(start);
        Duration waited = Duration.ZERO;
        Duration lastPoll = null;
        while (reaction instanceof ResponseReaction.Poll poll) {
            if (clock.instant().plus(poll.delay()).isAfter(deadline)) {
                return failure("no terminal answer within " + options.timeout().toSeconds() + " s", start,
                        registered, lastPoll);
            }
            long waitStart = System.nanoTime();
            Thread.sleep(poll.delay().toMillis()); // the device's own Retry-After wait, on the caller's thread
            waited = waited.plus(since(waitStart));
            long pollStart = System.nanoTime();
            HttpRequest status = request(URI.create(base + "/operations/" + encode(poll.operationId())
                    + "?api-version=" + DpsMqtt.API_VERSION), deadline).GET().build();
            try {
                reaction = send(client, status);
            } catch (IOException e) {
                return failure("the status request failed: " + e, start, registered, lastPoll);
            }
            lastPoll = since(pollStart);
        }
        Duration total = since(start);
        ResponseReaction.Finish finish = (ResponseReaction.Finish) reaction;
        return finish.toOutcome(options.registrationId(), new ProvisioningOutcome.Timings(null, registered,
                total.minus(registered), total, lastPoll, waited));
    }

    private ResponseReaction send(HttpClient client, HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
        Integer retryAfter = response.headers().firstValue("retry-after").flatMap(DpsHttps::positiveInt)
                .orElse(null);
        return ResponseReaction.of(new ResponseTopic(response.statusCode(), "", retryAfter), response.body());
    }

    private HttpRequest.Builder request(URI uri, Instant deadline) {
        Duration left = Duration.between(clock.instant(), deadline);
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri)
                .timeout(left.isNegative() || left.isZero() ? Duration.ofMillis(1) : left)
                .header("Accept", "application/json")
                .header("Content-Type", "application/json; charset=utf-8")
                .header("User-Agent", USER_AGENT);
        String token = sasToken();
        if (token != null) {
            builder.header("Authorization", token);
        }
        return builder;
    }

    private @Nullable String sasToken() {
        if (options.credential() instanceof SymmetricKeyCredential key) {
            return SasSigner.deviceToken(options.idScope(), options.registrationId(), key.deviceKey(),
                    clock.instant().plus(SAS_LIFETIME));
        }
        if (options.credential() instanceof TpmCredential tpm) {
            return tpm.sasToken();
        }
        return null;
    }

    private SSLContext sslContext() throws GeneralSecurityException {
        KeyManager[] keys = options.credential() instanceof X509Credential x509
                ? x509.keyManagerFactory().getKeyManagers() : null;
        TrustManager[] trust = options.trustManagerFactory() == null ? null
                : options.trustManagerFactory().getTrustManagers();
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys, trust, null);
        return context;
    }

    private String hostForUri() {
        String host = options.host();
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private ProvisioningOutcome failure(String reason, long start, @Nullable Duration registered,
            @Nullable Duration lastPoll) {
        Duration total = since(start);
        return ProvisioningOutcome.transportFailure(options.registrationId(), reason, new ProvisioningOutcome.Timings(
                null, registered, registered == null ? null : total.minus(registered), total, lastPoll,
                Duration.ZERO));
    }

    private static Optional<Integer> positiveInt(String text) {
        try {
            int value = Integer.parseInt(text.trim());
            return value > 0 ? Optional.of(value) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }
}
