package io.opendps.core.x509;

import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Parsed forms of stored PEM texts, so that attesting a device does not re-parse every group's certificates.
 * Bounded: when full it is simply emptied (stored certificates are few; the bound only guards against misuse).
 * Thread-safe.
 */
public final class CertificateCache {

    private static final int MAX_ENTRIES = 1024;

    private final Map<String, X509Certificate> parsed = new ConcurrentHashMap<>();

    /**
     * The certificate of a stored PEM text.
     *
     * @throws IllegalArgumentException when the text is not one certificate
     */
    public X509Certificate parse(String pem) {
        X509Certificate cached = parsed.get(pem);
        if (cached != null) {
            return cached;
        }
        X509Certificate certificate = CertificateCodec.parse(pem);
        if (parsed.size() >= MAX_ENTRIES) {
            parsed.clear();
        }
        parsed.put(pem, certificate);
        return certificate;
    }
}
