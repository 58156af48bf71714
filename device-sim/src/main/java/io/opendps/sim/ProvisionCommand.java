package io.opendps.sim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.json.Json;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.sas.DerivedKeys;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.tpm.TpmAttestor;
import io.opendps.core.tpm.TpmCrypto;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.UnrecoverableKeyException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code device provision}: provisions one simulated device and prints the result like the Azure quickstart
 * sample. Options default to the sample's environment variables; ID scope, CA certificate and MQTT port fall back to
 * the server's {@code service.json}. Missing or invalid input is a usage error (exit code 2); a registration that
 * does not end {@code assigned} exits with 1.
 */
@Command(
        name = "provision",
        description = {
            "Provision one device with a symmetric key or an X.509 certificate over MQTT/TLS, as the Azure IoT "
                    + "quickstart samples do: connect, subscribe, register, poll until the registration is assigned, "
                    + "failed or disabled, then print the assigned IoT hub and device id.",
            "",
            "Symmetric key: the SAS token is the MQTT password. X.509 (--cert): the certificate chain is presented "
                    + "in the TLS handshake, no MQTT password is sent, and the registration id defaults to the "
                    + "certificate's subject CN.",
            "",
            "--transport https runs the same flows over the DPS HTTPS device API (PUT register, GET operations; "
                    + "the SAS token in the Authorization header) instead of MQTT.",
            "",
            "Options default to the quickstart's environment variables. The ID scope, the CA certificate and the "
                    + "MQTT and HTTPS ports fall back to <data-dir>/service.json, which the OpenDPS server writes on "
                    + "start."
        },
        mixinStandardHelpOptions = true,
        sortOptions = false,
        usageHelpAutoWidth = true,
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:The device was assigned to an IoT hub.",
            "1:Registration failed or was disabled, or the service could not be reached.",
            "2:Invalid or missing options."
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  device provision --registration-id my-device-01 --symmetric-key KEY",
            "  device provision --registration-id sensor-7 --group-key GROUP_KEY \\",
            "    --payload '{\"modelId\":\"dtmi:com:example:Thermostat;1\"}'",
            "  PROVISIONING_HOST=dps.example.com PROVISIONING_IDSCOPE=0ne00000001 \\",
            "    PROVISIONING_REGISTRATION_ID=my-device-01 \\",
            "    PROVISIONING_SYMMETRIC_KEY=KEY device provision",
            "  device provision --cert device-full-chain.pem --key device.key.pem",
            "  X509_CERT_FILE=device.pem X509_KEY_FILE=device.key.pem PASS_PHRASE=secret device provision",
            "  device provision --tpm --tcti swtpm:host=127.0.0.1,port=2321",
            "  device provision --transport https --registration-id my-device-01 --symmetric-key KEY"
        })
public final class ProvisionCommand implements Callable<Integer> {

    private static final Duration WAIT_MARGIN = Duration.ofSeconds(10);
    private static final int DEFAULT_HTTPS_PORT = 443;
    private static final String ENV_CERT_FILE = "X509_CERT_FILE";
    private static final String ENV_KEY_FILE = "X509_KEY_FILE";
    private static final String ENV_PASSPHRASE = "PASS_PHRASE";
    private static final String ENV_X509_REGISTRATION_ID = "DPS_X509_REGISTRATION_ID";

    private final Map<String, String> environment;

    @Spec
    private CommandSpec spec;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "${env:PROVISIONING_HOST:-localhost}",
            description = {"Host name of the provisioning service; the server certificate must name it.",
                "Environment: PROVISIONING_HOST. Default: ${DEFAULT-VALUE}."})
    private String host = "localhost";

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8883",
            description = {"MQTT/TLS port. Default: the port of mqttEndpoint in <data-dir>/service.json if the "
                + "file exists, else ${DEFAULT-VALUE}."})
    private int port = SimulatedDeviceOptions.DEFAULT_PORT;

    /** The device transport of {@code --transport}. */
    enum Transport { MQTT, HTTPS }

    @Option(names = "--transport", paramLabel = "mqtt|https", defaultValue = "mqtt",
            converter = TransportConverter.class,
            description = {"Device protocol: mqtt (MQTT/TLS, the default) or https (the DPS HTTPS device API: PUT "
                + "register, GET operations, the SAS token in the Authorization header, the X.509 chain in the TLS "
                + "handshake, TPM with the same challenge)."})
    private Transport transport = Transport.MQTT;

    @Option(names = "--https-port", paramLabel = "PORT",
            description = {"With --transport https: the HTTPS port. Default: the port of httpsEndpoint in "
                + "<data-dir>/service.json if the file exists, else 443."})
    private @Nullable Integer httpsPort;

    @Option(names = "--id-scope", paramLabel = "SCOPE", defaultValue = "${env:PROVISIONING_IDSCOPE}",
            description = {"ID scope of the provisioning service, e.g. 0ne00000001.",
                "Environment: PROVISIONING_IDSCOPE. Default: idScope from <data-dir>/service.json."})
    private @Nullable String idScope;

    @Option(names = "--registration-id", paramLabel = "ID", defaultValue = "${env:PROVISIONING_REGISTRATION_ID}",
            description = {"Registration id of the device (also its MQTT client id). Required for a symmetric key; "
                + "with a certificate it defaults to the certificate's subject CN.",
                "Environment: PROVISIONING_REGISTRATION_ID (symmetric key), DPS_X509_REGISTRATION_ID (X.509)."})
    private @Nullable String registrationId;

    @Option(names = "--symmetric-key", paramLabel = "KEY", defaultValue = "${env:PROVISIONING_SYMMETRIC_KEY}",
            description = {"Device key, base64: the key of an individual enrollment, or a key already derived from "
                + "a group key. Required unless --group-key or --cert is given.",
                "Environment: PROVISIONING_SYMMETRIC_KEY."})
    private @Nullable String symmetricKey;

    @Option(names = "--group-key", paramLabel = "KEY",
            description = {"Enrollment group key, base64: the device key is derived from it and the registration "
                + "id (HMAC-SHA256). Replaces --symmetric-key."})
    private @Nullable String groupKey;

    @Option(names = "--cert", paramLabel = "FILE",
            description = {"X.509 attestation: PEM file with the device certificate first, optionally followed by "
                + "the intermediates to send. Replaces --symmetric-key and --group-key.",
                "Environment: X509_CERT_FILE."})
    private @Nullable Path cert;

    @Option(names = "--key", paramLabel = "FILE",
            description = {"PEM private key of the device certificate: PKCS#8 (PRIVATE KEY), encrypted PKCS#8 "
                + "(ENCRYPTED PRIVATE KEY, with --passphrase) or traditional EC/RSA (EC PRIVATE KEY, RSA PRIVATE "
                + "KEY). Default: the key in the --cert file.",
                "Environment: X509_KEY_FILE."})
    private @Nullable Path key;

    @Option(names = "--chain", paramLabel = "FILE",
            description = {"PEM file with further intermediate certificates to send after those in the --cert file."})
    private @Nullable Path chain;

    @Option(names = "--passphrase", paramLabel = "TEXT",
            description = {"Passphrase of an encrypted private key. Prefer the environment variable: a command line "
                + "is visible to other users.",
                "Environment: PASS_PHRASE."})
    private @Nullable String passphrase;

    @Option(names = "--tpm",
            description = {"TPM attestation: drive a TPM 2.0 through tpm2-tools (EK at 0x81010001 and SRK at "
                + "0x81000001, created with the Azure SDK templates when absent), ask for the challenge, answer it "
                + "in the TPM and register with a TPM-signed SAS token. The registration id defaults to the one "
                + "derived from the EK (see 'device tpm-info'). Replaces --symmetric-key, --group-key and --cert."})
    private boolean tpm;

    @Option(names = "--tcti", paramLabel = "TCTI", defaultValue = "${env:TPM2TOOLS_TCTI}",
            description = {"With --tpm: the tpm2-tools TCTI, e.g. swtpm:host=127.0.0.1,port=2321 or "
                + "device:/dev/tpmrm0. Environment: TPM2TOOLS_TCTI. Default: the tools' default."})
    private @Nullable String tcti;

    @Option(names = "--ca", paramLabel = "PEM",
            description = {"PEM file with the CA certificate(s) to trust for the server certificate.",
                "Default: caCertificate from <data-dir>/service.json, else the JVM's default trust store."})
    private @Nullable Path ca;

    @Option(names = "--payload", paramLabel = "JSON",
            description = {"Custom allocation payload sent with the register request, as JSON text, "
                + "e.g. '{\"modelId\":\"dtmi:com:example:Thermostat;1\"}'."})
    private @Nullable String payload;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = {"Give up after this many seconds. Default: ${DEFAULT-VALUE}."})
    private int timeoutSeconds = 60;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:OPENDPS_DATA_DIR:-./opendps-data}",
            description = {"Data directory of the local OpenDPS server, read for service.json when the ID scope, "
                + "CA certificate or port are not given. Environment: OPENDPS_DATA_DIR. Default: ./opendps-data."})
    private Path dataDir = Path.of("./opendps-data");

    @Option(names = "--json",
            description = {"Print the final answer of the service (registration result or error body) as JSON, "
                + "exactly as received, instead of text."})
    private boolean json;

    @Option(names = "--send-telemetry", paramLabel = "N",
            description = {"After assigned: connect to the assigned IoT hub, read the twin, print its desired "
                + "properties and send N telemetry messages (QoS 1), as the quickstart does. Default: off."})
    private @Nullable Integer sendTelemetry;

    @Option(names = "--gateway-host", paramLabel = "HOST",
            description = {"With --send-telemetry: open TLS to this host instead of the assigned hub name (the hub "
                + "name still goes in the username and SAS token). Default: the assigned hub."})
    private @Nullable String gatewayHost;

    @Option(names = "--hub-port", paramLabel = "PORT",
            description = {"With --send-telemetry: the hub's MQTT/TLS port. Default: the port used for DPS."})
    private @Nullable Integer hubPort;

    /** A command reading the process environment (X.509 variables; the others go through picocli defaults). */
    public ProvisionCommand() {
        this(System.getenv());
    }

    /** A command with an explicit environment for the X.509 variables, for tests. */
    ProvisionCommand(Map<String, String> environment) {
        this.environment = Map.copyOf(environment);
    }

    /**
     * The effective settings after defaults, environment and service.json.
     *
     * @param host the service host
     * @param port the port of the chosen transport (MQTT/TLS, or HTTPS with {@code --transport https})
     * @param idScope the ID scope
     * @param registrationId the registration id
     * @param credential the device key (derived when a group key was given) or the X.509 identity
     * @param payload the custom payload, or {@code null}
     * @param ca the CA file to trust, or {@code null} for the JVM default trust store
     * @param timeout the overall timeout
     * @param mqttPort the MQTT/TLS port (the default hub port for {@code --send-telemetry})
     */
    record Settings(String host, int port, String idScope, String registrationId, DeviceCredential credential,
            @Nullable JsonNode payload, @Nullable Path ca, Duration timeout, int mqttPort) {

        SimulatedDeviceOptions toOptions(@Nullable TrustManagerFactory trust) {
            return new SimulatedDeviceOptions(host, port, idScope, registrationId, credential, payload, trust,
                    timeout);
        }
    }

    @Override
    public Integer call() {
        if (sendTelemetry != null && sendTelemetry < 1) {
            throw usage("Invalid --send-telemetry: must be at least 1, was " + sendTelemetry);
        }
        if (sendTelemetry == null && (gatewayHost != null || hubPort != null)) {
            throw usage("--gateway-host and --hub-port need --send-telemetry");
        }
        if (transport != Transport.HTTPS && httpsPort != null) {
            throw usage("--https-port needs --transport https");
        }
        if (transport == Transport.HTTPS && portGiven()) {
            throw usage("--port is the MQTT port; with --transport https give --https-port");
        }
        if (httpsPort != null && (httpsPort < 1 || httpsPort > 65_535)) {
            throw usage("Invalid --https-port: must be 1..65535, was " + httpsPort);
        }
        if (tpm) {
            return callTpm();
        }
        if (matched("--tcti")) {
            throw usage("--tcti needs --tpm");
        }
        Settings settings = resolve();
        TrustManagerFactory trust = loadTrust(settings.ca());
        SimulatedDeviceOptions options = settings.toOptions(trust);
        PrintWriter out = spec.commandLine().getOut();
        if (settings.credential() instanceof X509Credential x509) {
            warnIfNotTheCommonName(settings.registrationId(), x509);
        }
        if (!json) {
            out.printf("Provisioning device %s with %s%s (ID scope %s)%n", settings.registrationId(),
                    settings.credential() instanceof X509Credential x509
                            ? "certificate " + x509.thumbprint() + " (SHA-256) at " : "",
                    options.endpoint(), settings.idScope());
            out.println("Waiting for the provisioning service to register the device...");
            out.flush();
        }
        ProvisioningOutcome outcome = run(options);
        int code = OutcomePrinter.print(outcome, out, spec.commandLine().getErr(), json);
        DeviceRegistrationState state = outcome.registrationState();
        if (code != 0 || sendTelemetry == null || state == null || state.assignedHub() == null
                || state.deviceId() == null) {
            return code;
        }
        HubTelemetry hub = new HubTelemetry(state.assignedHub(), state.deviceId(),
                gatewayHost != null ? gatewayHost : state.assignedHub(), hubPort != null ? hubPort : settings.mqttPort(),
                settings.credential(), trust, settings.timeout());
        try {
            hub.run(sendTelemetry, out, Clock.systemUTC());
            return 0;
        } catch (HubTelemetry.HubException e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println(e.getMessage());
            err.flush();
            return 1;
        }
    }

    /** {@code --tpm}: the TPM flow of {@link TpmProvisioning} with the EK and SRK read from (or created in) the TPM. */
    private Integer callTpm() {
        for (String name : new String[] {"--symmetric-key", "--group-key", "--cert", "--key", "--chain",
            "--passphrase"}) {
            if (matched(name)) {
                throw usage("--tpm and " + name + " are mutually exclusive: a TPM device proves its identity with "
                        + "its TPM");
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Tpm2Tools tools = new Tpm2Tools(tcti)) {
            byte[] ek;
            byte[] srk;
            try {
                ek = tools.endorsementKey();
                srk = tools.storageRootKey();
            } catch (Tpm2Tools.TpmException e) {
                err.println("Cannot use the TPM (" + tools + "): " + e.getMessage());
                err.flush();
                return 1;
            }
            String id = blank(registrationId) ? TpmCrypto.registrationId(ek) : registrationId;
            Settings settings = resolve(id, new TpmCredential(ek, srk, null));
            SimulatedDeviceOptions options = settings.toOptions(loadTrust(settings.ca()));
            if (!json) {
                out.printf("Provisioning device %s with TPM (EK sha256 %s) at %s (ID scope %s)%n", id,
                        TpmAttestor.ekSha256(ek), options.endpoint(), settings.idScope());
                out.println("Asking for the TPM challenge, answering it in the TPM, then registering...");
                out.flush();
            }
            TpmProvisioning.Result result;
            try (SimulatorRuntime runtime = SimulatorRuntime.create(1, 1)) {
                result = transport == Transport.HTTPS
                        ? TpmProvisioning.provision(options, tools,
                                o -> new DpsHttps(o, Clock.systemUTC()).provision(), Clock.systemUTC())
                        : TpmProvisioning.provision(options, tools, runtime, Clock.systemUTC());
            } catch (Tpm2Tools.TpmException e) {
                err.println("The TPM could not answer the challenge (is the enrollment's endorsement key this "
                        + "TPM's?): " + e.getMessage());
                err.flush();
                return 1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
            if (!json && result.challenged()) {
                out.println("TPM challenge answered: the issued key was imported and persisted at "
                        + Tpm2Tools.ID_KEY_HANDLE + (result.finalKeyImported() ? "; final authenticationKey imported"
                        : ""));
                out.flush();
            }
            int code = OutcomePrinter.print(result.outcome(), out, err, json);
            DeviceRegistrationState state = result.outcome().registrationState();
            if (code != 0 || sendTelemetry == null || state == null || state.assignedHub() == null
                    || state.deviceId() == null) {
                return code;
            }
            return sendTpmTelemetry(tools, sendTelemetry, state.assignedHub(), state.deviceId(), ek, srk, settings,
                    options, out, err);
        }
    }

    /** {@code --send-telemetry} for a TPM device: the hub SAS token is signed in the TPM with the issued key. */
    private int sendTpmTelemetry(Tpm2Tools tools, int messages, String hub, String deviceId, byte[] ek, byte[] srk,
            Settings settings, SimulatedDeviceOptions options, PrintWriter out, PrintWriter err) {
        String resource = hub + "/devices/" + deviceId;
        long expiry = Clock.systemUTC().instant().plus(Duration.ofHours(1)).getEpochSecond();
        try {
            String token = SasSigner.token(resource, expiry, tools.hmac(SasSigner.stringToSign(resource, expiry)),
                    null);
            new HubTelemetry(hub, deviceId, gatewayHost != null ? gatewayHost : hub,
                    hubPort != null ? hubPort : settings.mqttPort(), new TpmCredential(ek, srk, token),
                    options.trustManagerFactory(), settings.timeout()).run(messages, out, Clock.systemUTC());
            return 0;
        } catch (Tpm2Tools.TpmException | HubTelemetry.HubException e) {
            err.println(e.getMessage());
            err.flush();
            return 1;
        }
    }

    private void warnIfNotTheCommonName(String id, X509Credential x509) {
        String commonName = x509.commonName().orElse(null);
        if (!id.equals(commonName)) {
            PrintWriter err = spec.commandLine().getErr();
            err.printf("Warning: registration id %s is not the certificate's subject CN (%s); DPS refuses such "
                    + "devices%n", id, commonName == null ? "none" : commonName);
            err.flush();
        }
    }

    /**
     * Resolves the options into settings.
     *
     * @throws ParameterException for missing or invalid input, naming the option and its environment variable
     */
    Settings resolve() {
        Path certFile = certificateFile();
        DeviceCredential credential;
        String id;
        if (certFile != null) {
            X509Credential x509 = loadCertificate(certFile);
            credential = x509;
            id = x509RegistrationId(x509);
        } else {
            rejectX509OptionsWithoutCertificate();
            id = required(registrationId, "Missing registration id: pass --registration-id or set "
                    + "PROVISIONING_REGISTRATION_ID");
            credential = new SymmetricKeyCredential(deviceKey(id));
        }
        return resolve(id, credential);
    }

    /** The settings for a device whose id and credential are known. */
    private Settings resolve(String id, DeviceCredential credential) {
        JsonNode body = parsePayload();
        Duration timeout = timeout();
        boolean https = transport == Transport.HTTPS;
        Optional<ServiceFile> service = blank(idScope) || ca == null || !portGiven() || (https && httpsPort == null)
                ? readServiceFile()
                : Optional.empty();
        String scope = blank(idScope)
                ? service.map(ServiceFile::idScope).filter(s -> !s.isBlank()).orElseThrow(this::missingIdScope)
                : idScope;
        int effectivePort = portGiven() ? port : service.stream()
                .flatMapToInt(s -> s.mqttPort().stream()).findFirst().orElse(port);
        Path caFile = ca != null ? ca : service.flatMap(s -> s.caCertificatePath(dataDir)).orElse(null);
        int transportPort = !https ? effectivePort : httpsPort != null ? httpsPort : service.stream()
                .flatMapToInt(s -> s.httpsPort().stream()).findFirst().orElse(DEFAULT_HTTPS_PORT);
        return new Settings(host, transportPort, scope, id, credential, body, caFile, timeout, effectivePort);
    }

    /**
     * The certificate file if X.509 attestation is chosen: {@code --cert}, else {@code X509_CERT_FILE} unless a
     * symmetric key or group key was given on the command line.
     */
    private @Nullable Path certificateFile() {
        boolean keyOption = matched("--symmetric-key") || groupKey != null;
        if (cert != null && keyOption) {
            throw usage("--cert and --symmetric-key/--group-key are mutually exclusive: give either the device "
                    + "certificate (X.509) or a key (symmetric key)");
        }
        if (cert != null || keyOption) {
            return cert;
        }
        String fromEnvironment = env(ENV_CERT_FILE);
        if (fromEnvironment != null && !blank(symmetricKey)) {
            throw usage("Both " + ENV_CERT_FILE + " and PROVISIONING_SYMMETRIC_KEY are set: pass --cert or "
                    + "--symmetric-key to choose the attestation");
        }
        return fromEnvironment == null ? null : Path.of(fromEnvironment);
    }

    private void rejectX509OptionsWithoutCertificate() {
        for (String name : new String[] {"--key", "--chain", "--passphrase"}) {
            if (matched(name)) {
                throw usage(name + " needs --cert (or " + ENV_CERT_FILE + "): it belongs to X.509 attestation");
            }
        }
    }

    private X509Credential loadCertificate(Path certFile) {
        Path keyFile = key != null ? key : Optional.ofNullable(env(ENV_KEY_FILE)).map(Path::of).orElse(null);
        String secret = passphrase != null ? passphrase : env(ENV_PASSPHRASE);
        requireReadable(certFile, "certificate file", "--cert, " + ENV_CERT_FILE);
        if (keyFile != null) {
            requireReadable(keyFile, "private key file", "--key, " + ENV_KEY_FILE);
        }
        if (chain != null) {
            requireReadable(chain, "chain file", "--chain");
        }
        try {
            return X509Material.fromPem(certFile, keyFile, chain, secret == null ? null : secret.toCharArray());
        } catch (UnrecoverableKeyException e) {
            throw usage(capitalized(e.getMessage()) + (secret == null ? "; pass --passphrase or set "
                    : "; check --passphrase or ") + ENV_PASSPHRASE);
        } catch (IOException | GeneralSecurityException e) {
            throw usage("Cannot load the device certificate and key (see --cert, --key, --chain): " + e.getMessage()
                    + (keyFile == null ? "; give the private key with --key or " + ENV_KEY_FILE : ""));
        } catch (IllegalArgumentException e) {
            throw usage("Invalid device certificate (see --cert, --key): " + e.getMessage());
        }
    }

    /**
     * With a certificate: {@code --registration-id} if given on the command line, else
     * {@code DPS_X509_REGISTRATION_ID}, else the certificate's CN; {@code PROVISIONING_REGISTRATION_ID} (the
     * symmetric-key sample's variable) is not used.
     */
    private String x509RegistrationId(X509Credential x509) {
        if (matched("--registration-id") && !blank(registrationId)) {
            return registrationId;
        }
        String fromEnvironment = env(ENV_X509_REGISTRATION_ID);
        if (fromEnvironment != null) {
            return fromEnvironment;
        }
        return x509.commonName().filter(cn -> !cn.isBlank()).orElseThrow(() -> usage("The certificate subject "
                + x509.leaf().getSubjectX500Principal().getName() + " has no CN: pass --registration-id or set "
                + ENV_X509_REGISTRATION_ID));
    }

    private void requireReadable(Path file, String what, String where) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw usage("Cannot read the " + what + " " + file + " (see " + where + "): "
                    + (Files.exists(file) ? "not a readable file" : "no such file"));
        }
    }

    private static String capitalized(String text) {
        return text.isEmpty() ? text : Character.toUpperCase(text.charAt(0)) + text.substring(1);
    }

    private @Nullable String env(String name) {
        String value = environment.get(name);
        return blank(value) ? null : value;
    }

    private boolean matched(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    private String deviceKey(String id) {
        if (groupKey != null && matched("--symmetric-key")) {
            throw usage("--symmetric-key and --group-key are mutually exclusive: give the device key, or the "
                    + "group key to derive it from");
        }
        if (groupKey != null) {
            try {
                return DerivedKeys.deriveBase64(groupKey, id);
            } catch (IllegalArgumentException e) {
                throw usage("Invalid --group-key: " + e.getMessage());
            }
        }
        String key = required(symmetricKey, "Missing device key: pass --symmetric-key (or set "
                + "PROVISIONING_SYMMETRIC_KEY), or --group-key to derive it from an enrollment group key, or --cert "
                + "(or " + ENV_CERT_FILE + ") for X.509 attestation");
        try {
            if (Base64.getDecoder().decode(key).length > 0) {
                return key;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw usage("Invalid --symmetric-key (or PROVISIONING_SYMMETRIC_KEY): not base64 (standard alphabet)");
    }

    private @Nullable JsonNode parsePayload() {
        if (payload == null) {
            return null;
        }
        try {
            JsonNode node = Json.mapper().readTree(payload);
            if (node == null || node.isMissingNode()) {
                throw usage("Invalid --payload: empty; give JSON text such as '{\"a\":1}'");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw usage("Invalid --payload: not valid JSON: " + e.getOriginalMessage());
        }
    }

    private Duration timeout() {
        if (timeoutSeconds < 1) {
            throw usage("Invalid --timeout: must be at least 1 second, was " + timeoutSeconds);
        }
        return Duration.ofSeconds(timeoutSeconds);
    }

    private Optional<ServiceFile> readServiceFile() {
        try {
            return ServiceFile.read(dataDir);
        } catch (IOException e) {
            throw usage("Cannot read " + dataDir.resolve(ServiceFile.FILE_NAME) + " (see --data-dir): "
                    + e.getMessage());
        }
    }

    private @Nullable TrustManagerFactory loadTrust(@Nullable Path caFile) {
        if (caFile == null) {
            return null;
        }
        try {
            return TrustMaterial.fromPem(caFile);
        } catch (IOException | GeneralSecurityException e) {
            throw usage("Cannot load the CA certificate " + caFile + " (see --ca): " + e.getMessage());
        }
    }

    private ProvisioningOutcome run(SimulatedDeviceOptions options) {
        if (transport == Transport.HTTPS) {
            try {
                return new DpsHttps(options, Clock.systemUTC()).provision();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return abandoned(options, "interrupted");
            }
        }
        try (SimulatorRuntime runtime = SimulatorRuntime.create(1, 1)) {
            return new SimulatedDevice(options, runtime).provision()
                    .get(options.timeout().plus(WAIT_MARGIN).toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return abandoned(options, "interrupted");
        } catch (ExecutionException | TimeoutException e) {
            return abandoned(options, "the simulated device did not finish: " + e);
        }
    }

    private static ProvisioningOutcome abandoned(SimulatedDeviceOptions options, String reason) {
        return ProvisioningOutcome.transportFailure(options.registrationId(), reason,
                new ProvisioningOutcome.Timings(null, null, null, Duration.ZERO));
    }

    private ParameterException missingIdScope() {
        return usage("Missing ID scope: pass --id-scope or set PROVISIONING_IDSCOPE (no idScope found in "
                + dataDir.resolve(ServiceFile.FILE_NAME) + ", see --data-dir)");
    }

    private boolean portGiven() {
        return matched("--port");
    }

    private String required(@Nullable String value, String message) {
        if (blank(value)) {
            throw usage(message);
        }
        return value;
    }

    private static boolean blank(@Nullable String value) {
        return value == null || value.isBlank();
    }

    /** Parses {@code --transport} case-insensitively, naming the accepted values on error. */
    static final class TransportConverter implements ITypeConverter<Transport> {
        @Override
        public Transport convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "mqtt" -> Transport.MQTT;
                case "https" -> Transport.HTTPS;
                default -> throw new TypeConversionException("'" + value + "' is not a transport: use mqtt or https");
            };
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
