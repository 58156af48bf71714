package io.opendps.core.x509;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;
import org.jspecify.annotations.Nullable;

/**
 * Reads and describes X.509 certificates in the encodings Azure clients send ({@code dps-service-api.md} §3.3):
 * PEM text (headers and line breaks; the Java SDK and the CLI), base64 of the DER (CLI {@code .cer}, .NET) and
 * base64 of the PEM text (the C SDK). Parsing is the JDK's {@link CertificateFactory}.
 *
 * <p>Distinguished names are formatted the way .NET's {@code X509Certificate2.Subject} does, which is what
 * Azure shows: most-specific RDN first, {@code ", "} between RDNs, keywords {@code CN OU O L S C E DC STREET
 * SERIALNUMBER G SN T}, other attributes by OID. Thumbprints are upper-case hex of a digest of the DER.
 *
 * <p>Stateless and thread-safe. Every parse failure is an {@link IllegalArgumentException} whose message says
 * what was expected; callers prefix it with the field name.
 */
public final class CertificateCodec {

    private static final String BEGIN = "-----BEGIN CERTIFICATE-----";
    private static final String END = "-----END CERTIFICATE-----";
    /** .NET-style keywords for the attributes X500Principal would otherwise print as OIDs or spell differently. */
    private static final Map<String, String> KEYWORDS = Map.of(
            "2.5.4.8", "S",
            "1.2.840.113549.1.9.1", "E",
            "0.9.2342.19200300.100.1.25", "DC",
            "2.5.4.5", "SERIALNUMBER",
            "2.5.4.42", "G",
            "2.5.4.4", "SN",
            "2.5.4.12", "T");
    private static final String CN_OID = "2.5.4.3";

    private CertificateCodec() {
    }

    /**
     * Parses exactly one certificate from any of the three accepted encodings.
     *
     * @throws IllegalArgumentException when the text is empty, not a certificate, or holds more than one
     */
    public static X509Certificate parse(String text) {
        List<X509Certificate> all = parseAll(text);
        if (all.size() != 1) {
            throw new IllegalArgumentException("expected one certificate but found " + all.size()
                    + "; send a single certificate");
        }
        return all.get(0);
    }

    /**
     * Parses every certificate of a PEM bundle (one or more {@code BEGIN CERTIFICATE} blocks, in order); a single
     * base64 DER or base64 PEM text is accepted too.
     *
     * @throws IllegalArgumentException when the text is empty or holds no readable certificate
     */
    public static List<X509Certificate> parseAll(String text) {
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("the certificate is empty; send PEM text, base64 of the DER or "
                    + "base64 of the PEM text");
        }
        if (trimmed.contains("-----BEGIN")) {
            return pem(trimmed);
        }
        byte[] bytes = base64(trimmed);
        String asText = new String(bytes, StandardCharsets.ISO_8859_1).strip();
        if (asText.startsWith("-----BEGIN")) {
            return pem(asText);
        }
        return List.of(der(bytes));
    }

    /** The PEM text of a certificate (64-character lines, trailing newline). */
    public static String toPem(X509Certificate certificate) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(encoded(certificate));
        return BEGIN + "\n" + body + "\n" + END + "\n";
    }

    /** SHA-1 of the DER, upper-case hex (Azure's {@code thumbprint} / {@code sha1Thumbprint}). */
    public static String sha1Thumbprint(X509Certificate certificate) {
        return digest("SHA-1", encoded(certificate));
    }

    /** SHA-256 of the DER, upper-case hex (64 characters). */
    public static String sha256Thumbprint(X509Certificate certificate) {
        return digest("SHA-256", encoded(certificate));
    }

    /** The subject DN, .NET style, e.g. {@code CN=sensor-0042, OU=IoT, O=Contoso, C=US}. */
    public static String subjectName(X509Certificate certificate) {
        return formatName(certificate.getSubjectX500Principal());
    }

    /** The issuer DN, formatted as {@link #subjectName}. */
    public static String issuerName(X509Certificate certificate) {
        return formatName(certificate.getIssuerX500Principal());
    }

    /** A DN, .NET style (see the class comment). */
    public static String formatName(X500Principal name) {
        return name.getName(X500Principal.RFC1779, KEYWORDS);
    }

    /** The serial number, big-endian upper-case hex without leading zero bytes (at least one digit). */
    public static String serialNumber(X509Certificate certificate) {
        return certificate.getSerialNumber().toString(16).toUpperCase(Locale.ROOT);
    }

    /**
     * The subject's common name: the CN of the most specific RDN that has one, or null when the subject has no
     * CN. Device certificates carry the registration id here.
     */
    public static @Nullable String commonName(X509Certificate certificate) {
        LdapName name;
        try {
            name = new LdapName(certificate.getSubjectX500Principal().getName(X500Principal.RFC2253));
        } catch (InvalidNameException e) {
            return null;
        }
        List<Rdn> rdns = name.getRdns();
        for (int i = rdns.size() - 1; i >= 0; i--) {
            String cn = cnOf(rdns.get(i));
            if (cn != null) {
                return cn;
            }
        }
        return null;
    }

    /** Whether the certificate is a CA certificate (basicConstraints CA:TRUE). */
    public static boolean isCa(X509Certificate certificate) {
        return certificate.getBasicConstraints() >= 0;
    }

    private static @Nullable String cnOf(Rdn rdn) {
        try {
            for (javax.naming.directory.Attribute a : java.util.Collections.list(rdn.toAttributes().getAll())) {
                String id = a.getID();
                if (id.equalsIgnoreCase("CN") || id.equals(CN_OID) || id.equalsIgnoreCase("OID." + CN_OID)) {
                    Object v = a.get();
                    return v instanceof String s ? s : null;
                }
            }
        } catch (javax.naming.NamingException e) {
            return null;
        }
        return null;
    }

    private static List<X509Certificate> pem(String text) {
        List<X509Certificate> out = new ArrayList<>();
        int from = 0;
        while (true) {
            int begin = text.indexOf(BEGIN, from);
            if (begin < 0) {
                break;
            }
            int end = text.indexOf(END, begin);
            if (end < 0) {
                throw new IllegalArgumentException("the PEM text has '" + BEGIN + "' without a matching '" + END
                        + "'");
            }
            out.add(der(base64(text.substring(begin + BEGIN.length(), end))));
            from = end + END.length();
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("the PEM text has no '" + BEGIN + "' block (other PEM types such "
                    + "as keys are not certificates)");
        }
        return out;
    }

    private static byte[] base64(String text) {
        try {
            return Base64.getMimeDecoder().decode(text.replaceAll("\\s+", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not valid base64 (" + e.getMessage() + "); send PEM text, base64 "
                    + "of the DER or base64 of the PEM text", e);
        }
    }

    private static X509Certificate der(byte[] der) {
        if (der.length == 0) {
            throw new IllegalArgumentException("the certificate is empty");
        }
        try {
            Collection<? extends java.security.cert.Certificate> certs = factory()
                    .generateCertificates(new ByteArrayInputStream(der));
            if (certs.size() != 1 || !(certs.iterator().next() instanceof X509Certificate x509)) {
                throw new IllegalArgumentException("the bytes are not one DER-encoded X.509 certificate");
            }
            return x509;
        } catch (CertificateException e) {
            throw new IllegalArgumentException("not a DER-encoded X.509 certificate: " + e.getMessage(), e);
        }
    }

    private static CertificateFactory factory() {
        try {
            return CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException("the JDK has no X.509 certificate factory", e);
        }
    }

    private static byte[] encoded(X509Certificate certificate) {
        try {
            return certificate.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("the certificate cannot be DER-encoded: " + e.getMessage(), e);
        }
    }

    private static String digest(String algorithm, byte[] bytes) {
        try {
            return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is missing from the JDK", e);
        }
    }
}
