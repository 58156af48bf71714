package io.opendps.core.x509;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.opendps.core.json.Json;
import io.opendps.core.testing.TestCertificates;
import io.opendps.core.testing.TestCertificates.Issued;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CertificateCodecTest {

    private static final Issued ROOT = TestCertificates.ca("Contoso Root").build();
    private static final Issued DEVICE = TestCertificates.leaf("sensor-0042").issuedBy(ROOT).build();

    @Test
    void parse_pemText_readsTheCertificate() {
        assertThat(CertificateCodec.parse(DEVICE.pem())).isEqualTo(DEVICE.certificate());
    }

    @Test
    void parse_pemWithCrlfIndentationAndSurroundingText_readsTheCertificate() {
        String pem = "subject=CN = sensor-0042\r\n" + DEVICE.pem().replace("\n", "\r\n    ") + "\r\n";

        assertThat(CertificateCodec.parse(pem)).isEqualTo(DEVICE.certificate());
    }

    @Test
    void parse_base64OfDer_readsTheCertificate() throws Exception {
        String der = Base64.getEncoder().encodeToString(DEVICE.certificate().getEncoded());

        assertThat(CertificateCodec.parse(der)).isEqualTo(DEVICE.certificate());
    }

    @Test
    void parse_base64OfPemText_readsTheCertificate() {
        String b64pem = Base64.getEncoder().encodeToString(DEVICE.pem().getBytes(StandardCharsets.US_ASCII));

        assertThat(b64pem).startsWith("LS0tLS1CRUdJTi");
        assertThat(CertificateCodec.parse(b64pem)).isEqualTo(DEVICE.certificate());
    }

    @Test
    void parseAll_pemBundle_readsEveryCertificateInOrder() {
        List<X509Certificate> all = CertificateCodec.parseAll(DEVICE.pem() + ROOT.pem());

        assertThat(all).containsExactly(DEVICE.certificate(), ROOT.certificate());
    }

    @Test
    void parse_bundle_isRejectedSayingOneIsExpected() {
        assertThatThrownBy(() -> CertificateCodec.parse(DEVICE.pem() + ROOT.pem()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected one certificate but found 2");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "not base64 at all!", "TUlJQg==", "aGVsbG8gd29ybGQ=",
        "-----BEGIN CERTIFICATE-----\nMIIB", "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"})
    void parse_badInput_isIllegalArgumentWithAMessage(String text) {
        assertThatThrownBy(() -> CertificateCodec.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageFindingMatch("empty|base64|certificate|CERTIFICATE");
    }

    @Test
    void thumbprints_areUpperCaseHexDigestsOfTheDer() throws Exception {
        byte[] der = DEVICE.certificate().getEncoded();

        assertThat(CertificateCodec.sha1Thumbprint(DEVICE.certificate())).isEqualTo(
                HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-1").digest(der)))
                .hasSize(40);
        assertThat(CertificateCodec.sha256Thumbprint(DEVICE.certificate())).isEqualTo(
                HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(der)))
                .hasSize(64);
    }

    @Test
    void subjectName_isMostSpecificFirstCommaSpaceSeparated() {
        Issued cert = TestCertificates.Builder.selfSignedWithDn(
                "CN=sensor-0042, OU=IoT, O=Contoso, L=Redmond, ST=Washington, C=US, EMAILADDRESS=ops@contoso.com");

        assertThat(CertificateCodec.subjectName(cert.certificate()))
                .isEqualTo("CN=sensor-0042, OU=IoT, O=Contoso, L=Redmond, S=Washington, C=US, E=ops@contoso.com");
    }

    @Test
    void commonName_ofDeviceCertificate_isItsCn() {
        assertThat(CertificateCodec.commonName(DEVICE.certificate())).isEqualTo("sensor-0042");
        assertThat(CertificateCodec.commonName(TestCertificates.Builder.selfSignedWithDn("O=NoCn, C=US")
                .certificate())).isNull();
    }

    @Test
    void info_ofCertificate_hasAllEightFieldsComputed() {
        X509CertificateInfo info = X509CertificateInfo.of(DEVICE.certificate());

        assertThat(info.subjectName()).isEqualTo("CN=sensor-0042");
        assertThat(info.issuerName()).isEqualTo("CN=Contoso Root");
        assertThat(info.sha1Thumbprint()).isEqualTo(CertificateCodec.sha1Thumbprint(DEVICE.certificate()));
        assertThat(info.sha256Thumbprint()).isEqualTo(DEVICE.sha256());
        assertThat(info.notBeforeUtc()).isEqualTo(TestCertificates.NOT_BEFORE);
        assertThat(info.notAfterUtc()).isEqualTo(TestCertificates.NOT_AFTER);
        assertThat(info.serialNumber()).isEqualTo(DEVICE.certificate().getSerialNumber().toString(16)
                .toUpperCase(java.util.Locale.ROOT)).matches("[0-9A-F]+");
        assertThat(info.version()).isEqualTo(3);
    }

    @Test
    void info_json_hasTheEightKeysWithAzureDatesAndNumericVersion() throws Exception {
        JsonNode json = Json.mapper().readTree(Json.toText(X509CertificateInfo.of(DEVICE.certificate())));

        assertThat(json.fieldNames()).toIterable().containsExactly("subjectName", "sha1Thumbprint",
                "sha256Thumbprint", "issuerName", "notBeforeUtc", "notAfterUtc", "serialNumber", "version");
        assertThat(json.get("notBeforeUtc").asText()).isEqualTo("2024-01-01T00:00:00.0000000Z");
        assertThat(json.get("version").isInt()).isTrue();
    }

    @Test
    void certificateWithInfo_responseForm_hasInfoButNoCertificate() {
        X509CertificateWithInfo stored = X509CertificateWithInfo.of(DEVICE.certificate());

        assertThat(stored.certificate()).startsWith("-----BEGIN CERTIFICATE-----\n");
        assertThat(Json.toText(stored.withoutCertificate())).startsWith("{\"info\":{\"subjectName\":")
                .doesNotContain("certificate\"");
    }
}
