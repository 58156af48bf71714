package io.opendps.bench;

import io.opendps.core.sas.DerivedKeys;
import io.opendps.core.sas.SasOutcome;
import io.opendps.core.sas.SasSigner;
import io.opendps.core.sas.SasToken;
import io.opendps.core.sas.SasVerifier;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the registrar does with a symmetric-key device's password: parse the SAS token and verify it against the
 * enrollment's key (individual enrollment), or first derive the device key from the group key (group enrollment).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SasBenchmark {

    private static final String SCOPE = "0ne00000001";
    private static final String REGISTRATION_ID = "device-000001";

    private byte[] groupKey;
    private byte[] deviceKey;
    private String token;
    private String resource;
    private SasVerifier verifier;

    @Setup
    public void setUp() {
        groupKey = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        deviceKey = DerivedKeys.derive(groupKey, REGISTRATION_ID);
        token = SasSigner.deviceToken(SCOPE, REGISTRATION_ID, deviceKey, Instant.now().plus(Duration.ofHours(1)));
        resource = SCOPE + "/registrations/" + REGISTRATION_ID;
        verifier = new SasVerifier(Clock.systemUTC(), Duration.ofMinutes(5));
    }

    /** Parse and verify against the individual enrollment's key. */
    @Benchmark
    public SasOutcome verifyIndividual() {
        return verifier.verifyDevice(SasToken.parse(token), resource, List.of(deviceKey));
    }

    /** Derive the device key from the group key, then parse and verify. */
    @Benchmark
    public SasOutcome verifyGroupDerived() {
        byte[] derived = DerivedKeys.derive(groupKey, REGISTRATION_ID);
        return verifier.verifyDevice(SasToken.parse(token), resource, List.of(derived));
    }

    /** The key derivation alone (HMAC-SHA256 of the registration id). */
    @Benchmark
    public byte[] deriveKey() {
        return DerivedKeys.derive(groupKey, REGISTRATION_ID);
    }
}
