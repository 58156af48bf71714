/*
 * Provisioning round trips against a running OpenDPS server (loopback only), symmetric key and X.509
 * alternating in the same run. Prints median and max of each step per attestation.
 *   java -cp 'cli/target/opendps.jar:cli/target/lib/*' bench/RoundTrip.java <data-dir> <count per attestation>
 */
import io.opendps.broker.ServiceInfo;
import io.opendps.broker.tls.CertificateTemplate;
import io.opendps.broker.tls.Certificates;
import io.opendps.broker.tls.TlsMaterial;
import io.opendps.core.json.Json;
import io.opendps.core.sas.SasSigner;
import io.opendps.sim.ProvisioningOutcome;
import io.opendps.sim.SimulatedDevice;
import io.opendps.sim.SimulatedDeviceOptions;
import io.opendps.sim.SimulatorRuntime;
import io.opendps.sim.TrustMaterial;
import io.opendps.sim.X509Credential;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.net.ssl.TrustManagerFactory;

public class RoundTrip {
    static ServiceInfo info;
    static HttpClient http;
    static String policy;
    static byte[] policyKey;

    public static void main(String[] args) throws Exception {
        info = ServiceInfo.read(Path.of(args[0]));
        int count = Integer.parseInt(args[1]);
        String[] cs = info.serviceConnectionString().split(";");
        policy = cs[1].substring(cs[1].indexOf('=') + 1);
        policyKey = Base64.getDecoder().decode(cs[2].substring(cs[2].indexOf('=') + 1));
        http = HttpClient.newBuilder().sslContext(TlsMaterial.trustingClientContext(info.caCertificate())).build();

        KeyPair rootKeys = Certificates.newEcKeyPair();
        var root = Certificates.template("CN=bench-root", rootKeys.getPublic()).ca()
                .validity(Instant.now().minusSeconds(3600), Duration.ofDays(30)).selfSigned(rootKeys.getPrivate()).issue();
        put("enrollmentGroups/bench-x509", "{\"enrollmentGroupId\":\"bench-x509\",\"attestation\":{\"type\":\"x509\","
                + "\"x509\":{\"signingCertificates\":{\"primary\":{\"certificate\":"
                + Json.toText(Certificates.toPem(root)) + "}}}}}");

        List<ProvisioningOutcome> sas = new ArrayList<>();
        List<ProvisioningOutcome> x509 = new ArrayList<>();
        try (SimulatorRuntime runtime = SimulatorRuntime.create(1, 1)) {
            TrustManagerFactory trust = TrustMaterial.fromPem(info.caCertificate());
            for (int i = 0; i < count; i++) {
                String id = "rt-sas-" + System.nanoTime();
                String key = Json.mapper().readTree(put("enrollments/" + id, "{\"registrationId\":\"" + id
                        + "\",\"attestation\":{\"type\":\"symmetricKey\"}}"))
                        .path("attestation").path("symmetricKey").path("primaryKey").asText();
                sas.add(provision(runtime, SimulatedDeviceOptions.of(info.mqttHost(), info.mqttPort(), info.idScope(),
                        id, key).withTrust(trust)));

                String cn = "rt-x509-" + System.nanoTime();
                KeyPair keys = Certificates.newEcKeyPair();
                var leaf = Certificates.template("CN=" + cn, keys.getPublic())
                        .validity(Instant.now().minusSeconds(3600), Duration.ofDays(1))
                        .extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH)
                        .issuedBy(root, rootKeys.getPrivate()).issue();
                x509.add(provision(runtime, SimulatedDeviceOptions.ofX509(info.mqttHost(), info.mqttPort(),
                        info.idScope(), new X509Credential(List.of(leaf), keys.getPrivate())).withTrust(trust)));
            }
        }
        for (Map.Entry<String, List<ProvisioningOutcome>> e : Map.of("symmetric key", sas, "X.509 (group, EC P-256)",
                x509).entrySet()) {
            System.out.println("== " + e.getKey());
            List<ProvisioningOutcome> o = e.getValue();
            report("TLS connect + CONNECT + SUBSCRIBE", o, r -> r.timings().connectAndSubscribe());
            report("register -> 202 (incl. 100 ms reply delay)", o, r -> r.timings().register());
            report("poll -> 200 (incl. 100 ms reply delay)", o, r -> r.timings().poll().minusSeconds(2));
            report("end to end without the 2 s retry-after wait", o, r -> r.timings().total().minusSeconds(2));
        }
    }

    static ProvisioningOutcome provision(SimulatorRuntime runtime, SimulatedDeviceOptions o) throws Exception {
        ProvisioningOutcome outcome = new SimulatedDevice(o.withTimeout(Duration.ofSeconds(30)), runtime).provision()
                .get(60, TimeUnit.SECONDS);
        if (!outcome.assigned()) {
            throw new IllegalStateException("not assigned: " + outcome.describe());
        }
        return outcome;
    }

    static String put(String path, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(info.httpsEndpoint() + "/" + path
                + "?api-version=2021-10-01")).header("Authorization", SasSigner.serviceToken(info.httpsHost(), policy,
                policyKey, Instant.now().plusSeconds(600))).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 300) {
            throw new IllegalStateException(path + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    static void report(String what, List<ProvisioningOutcome> outcomes, Function<ProvisioningOutcome, Duration> f) {
        List<Long> us = new ArrayList<>();
        for (ProvisioningOutcome o : outcomes) {
            us.add(f.apply(o).toNanos() / 1_000);
        }
        Collections.sort(us);
        System.out.printf("  %-45s median %7.1f ms   max %7.1f ms   (n=%d)%n", what, us.get(us.size() / 2) / 1000.0,
                us.get(us.size() - 1) / 1000.0, us.size());
    }
}
