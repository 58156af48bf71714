package io.opendps.bench;

import io.opendps.broker.tls.Certificates;
import io.opendps.broker.tls.CertificateTemplate;
import io.opendps.core.x509.X509ChainValidator;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
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
 * What the registrar does for an X.509 group device: validate the presented chain (leaf, intermediate) against
 * the group's root with the JDK's PKIX. EC P-256 throughout, as the load harness and the demo use.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ChainValidationBenchmark {

    private List<X509Certificate> chain;
    private List<X509Certificate> anchors;
    private X509ChainValidator validator;

    @Setup
    public void setUp() {
        Instant now = Instant.now();
        KeyPair rootKeys = Certificates.newEcKeyPair();
        X509Certificate root = Certificates.issue(Certificates.template("CN=Bench Root", rootKeys.getPublic())
                .selfSigned(rootKeys.getPrivate()).validity(now.minus(Duration.ofHours(1)), Duration.ofDays(2)).ca());
        KeyPair intermediateKeys = Certificates.newEcKeyPair();
        X509Certificate intermediate = Certificates.issue(Certificates.template("CN=Bench Intermediate",
                intermediateKeys.getPublic()).issuedBy(root, rootKeys.getPrivate())
                .validity(now.minus(Duration.ofHours(1)), Duration.ofDays(2)).ca(0));
        KeyPair leafKeys = Certificates.newEcKeyPair();
        X509Certificate leaf = Certificates.issue(Certificates.template("CN=bench-device-1", leafKeys.getPublic())
                .issuedBy(intermediate, intermediateKeys.getPrivate())
                .validity(now.minus(Duration.ofHours(1)), Duration.ofDays(2))
                .extendedKeyUsages(CertificateTemplate.Usage.CLIENT_AUTH));
        chain = List.of(leaf, intermediate);
        anchors = List.of(root);
        validator = new X509ChainValidator(Clock.systemUTC());
    }

    @Benchmark
    public X509ChainValidator.Result validateChain() {
        X509ChainValidator.Result result = validator.validate(chain, anchors, List.of());
        if (!(result instanceof X509ChainValidator.Valid)) {
            throw new IllegalStateException("benchmark chain does not validate: " + result);
        }
        return result;
    }
}
