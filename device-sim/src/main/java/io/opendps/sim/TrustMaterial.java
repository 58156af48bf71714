package io.opendps.sim;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.TrustManagerFactory;

/**
 * Builds the trust a simulated device uses for the server certificate. Stateless and thread-safe; the factories it
 * returns are safe to share between devices.
 */
public final class TrustMaterial {

    private TrustMaterial() {
    }

    /**
     * Trusts exactly the certificates in a PEM (or DER) file, e.g. the server's {@code ca.pem}.
     *
     * @param caFile a file with one or more X.509 certificates
     * @return a PKIX trust manager factory over those certificates
     * @throws IOException if the file cannot be read
     * @throws GeneralSecurityException if it holds no certificate or an unreadable one
     */
    public static TrustManagerFactory fromPem(Path caFile) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(caFile)) {
            Collection<? extends Certificate> certificates =
                    CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certificates.isEmpty()) {
                throw new GeneralSecurityException("no certificate in " + caFile);
            }
            return fromCertificates(List.copyOf(certificates));
        }
    }

    /**
     * Trusts exactly the given certificates.
     *
     * @param certificates trust anchors (at least one)
     * @return a PKIX trust manager factory over them
     * @throws GeneralSecurityException if the key store cannot be built
     */
    public static TrustManagerFactory fromCertificates(List<? extends Certificate> certificates)
            throws GeneralSecurityException {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < certificates.size(); i++) {
                store.setCertificateEntry("ca-" + i, certificates.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(store);
            return factory;
        } catch (IOException e) {
            throw new GeneralSecurityException("cannot initialise an empty key store", e);
        }
    }
}
