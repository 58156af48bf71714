/*
 * One provisioning round trip, measured N times against a running OpenDPS server (loopback only).
 * Run through bench/foundation (it builds the classpath); prints the median and max of each step.
 *   java -cp 'cli/target/opendps.jar:cli/target/lib/*' bench/RoundTrip.java <data-dir> <count>
 */
import io.opendps.broker.ServiceInfo;
import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.sim.ProvisioningOutcome;
import io.opendps.sim.SimulatedDevice;
import io.opendps.sim.SimulatedDeviceOptions;
import io.opendps.sim.SimulatorRuntime;
import io.opendps.sim.TrustMaterial;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

public class RoundTrip {
    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        int count = Integer.parseInt(args[1]);
        ServiceInfo info = ServiceInfo.read(dataDir);
        String[] cs = info.serviceConnectionString().split(";");
        String policy = cs[1].substring(cs[1].indexOf('=') + 1);
        String key = cs[2].substring(cs[2].indexOf('=') + 1);
        HttpClient http = HttpClient.newBuilder()
                .sslContext(io.opendps.broker.tls.TlsMaterial.trustingClientContext(info.caCertificate())).build();
        List<ProvisioningOutcome> outcomes = new ArrayList<>();
        try (SimulatorRuntime runtime = SimulatorRuntime.create(1, 1)) {
            var trust = TrustMaterial.fromPem(info.caCertificate());
            for (int i = 0; i < count; i++) {
                String id = "rt-" + System.nanoTime() + "-" + i;
                String token = io.opendps.core.sas.SasSigner.serviceToken(info.httpsHost(), policy,
                        java.util.Base64.getDecoder().decode(key), Instant.now().plusSeconds(600));
                HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(info.httpsEndpoint()
                        + "/enrollments/" + id + "?api-version=2021-10-01")).header("Authorization", token)
                        .header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString("{\"registrationId\":\"" + id
                                + "\",\"attestation\":{\"type\":\"symmetricKey\"}}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                String deviceKey = io.opendps.core.json.Json.mapper().readTree(put.body())
                        .path("attestation").path("symmetricKey").path("primaryKey").asText();
                SimulatedDeviceOptions o = SimulatedDeviceOptions.of(info.mqttHost(), info.mqttPort(), info.idScope(),
                        id, deviceKey).withTrust(trust).withTimeout(Duration.ofSeconds(30));
                ProvisioningOutcome outcome = new SimulatedDevice(o, runtime).provision().get(60, TimeUnit.SECONDS);
                if (!outcome.assigned()) {
                    throw new IllegalStateException("not assigned: " + outcome.describe());
                }
                outcomes.add(outcome);
            }
        }
        report("TLS connect + CONNECT + SUBSCRIBE", outcomes, o -> o.timings().connectAndSubscribe());
        report("register -> 202 (incl. 100 ms reply delay)", outcomes, o -> o.timings().register());
        report("poll -> 200 (incl. 100 ms reply delay)", outcomes, o -> o.timings().poll().minusSeconds(2));
        report("end to end (incl. retry-after 2 s)", outcomes, o -> o.timings().total());
        report("end to end without the retry-after wait", outcomes,
                o -> o.timings().total().minusSeconds(2));
    }

    static void report(String what, List<ProvisioningOutcome> outcomes, Function<ProvisioningOutcome, Duration> f) {
        List<Long> ms = new ArrayList<>();
        for (ProvisioningOutcome o : outcomes) {
            ms.add(f.apply(o).toNanos() / 1_000);
        }
        Collections.sort(ms);
        System.out.printf("%-45s median %7.1f ms   max %7.1f ms   (n=%d)%n", what, ms.get(ms.size() / 2) / 1000.0,
                ms.get(ms.size() - 1) / 1000.0, ms.size());
    }
}
