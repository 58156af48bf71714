package io.opendps.sim;

import java.net.Socket;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Principal;
import java.security.Provider;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.KeyManagerFactorySpi;
import javax.net.ssl.ManagerFactoryParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.jspecify.annotations.Nullable;

/**
 * A client key manager with exactly one identity that it offers for every key type its key can sign for, ignoring
 * the issuer names the server lists. Immutable and thread-safe. Wrapped in a {@link KeyManagerFactory} because that
 * is what the HiveMQ MQTT client's TLS configuration takes.
 */
final class FixedKeyManager extends X509ExtendedKeyManager {

    static final String ALIAS = "device";

    private static final Provider PROVIDER = new FactoryProvider();

    private final X509Certificate[] chain;
    private final PrivateKey privateKey;
    private final String keyFamily;

    private FixedKeyManager(List<X509Certificate> chain, PrivateKey privateKey) {
        this.chain = chain.toArray(new X509Certificate[0]);
        this.privateKey = privateKey;
        this.keyFamily = family(privateKey.getAlgorithm());
    }

    /** A factory whose only key manager offers {@code chain} (leaf first) and {@code privateKey}. */
    static KeyManagerFactory factory(List<X509Certificate> chain, PrivateKey privateKey) {
        return new Factory(new FixedKeyManager(chain, privateKey));
    }

    @Override
    public String @Nullable [] getClientAliases(String keyType, Principal @Nullable [] issuers) {
        return offers(keyType) ? new String[] {ALIAS} : null;
    }

    @Override
    public @Nullable String chooseClientAlias(String[] keyTypes, Principal @Nullable [] issuers,
            @Nullable Socket socket) {
        return choose(keyTypes);
    }

    @Override
    public @Nullable String chooseEngineClientAlias(String[] keyTypes, Principal @Nullable [] issuers,
            @Nullable SSLEngine engine) {
        return choose(keyTypes);
    }

    @Override
    public String @Nullable [] getServerAliases(String keyType, Principal @Nullable [] issuers) {
        return null;
    }

    @Override
    public @Nullable String chooseServerAlias(String keyType, Principal @Nullable [] issuers,
            @Nullable Socket socket) {
        return null;
    }

    @Override
    public @Nullable String chooseEngineServerAlias(String keyType, Principal @Nullable [] issuers,
            @Nullable SSLEngine engine) {
        return null;
    }

    @Override
    public X509Certificate @Nullable [] getCertificateChain(String alias) {
        return ALIAS.equals(alias) ? chain.clone() : null;
    }

    @Override
    public @Nullable PrivateKey getPrivateKey(String alias) {
        return ALIAS.equals(alias) ? privateKey : null;
    }

    private @Nullable String choose(String @Nullable [] keyTypes) {
        if (keyTypes == null) {
            return null;
        }
        for (String keyType : keyTypes) {
            if (offers(keyType)) {
                return ALIAS;
            }
        }
        return null;
    }

    /** Key types arrive as {@code RSA}, {@code EC}, {@code EdDSA} or with the issuer's algorithm, {@code EC_RSA}. */
    private boolean offers(@Nullable String keyType) {
        if (keyType == null) {
            return false;
        }
        int separator = keyType.indexOf('_');
        return family(separator < 0 ? keyType : keyType.substring(0, separator)).equals(keyFamily);
    }

    private static String family(String algorithm) {
        String upper = algorithm.toUpperCase(Locale.ROOT);
        return switch (upper) {
            case "ECDSA" -> "EC";
            case "ED25519", "ED448" -> "EDDSA";
            default -> upper;
        };
    }

    /** Names the factories; registers no services and is never installed. */
    private static final class FactoryProvider extends Provider {
        private static final long serialVersionUID = 1L;

        FactoryProvider() {
            super("OpenDPS-device-sim", "1.0", "fixed client identity for simulated devices");
        }
    }

    private static final class Factory extends KeyManagerFactory {
        Factory(FixedKeyManager manager) {
            super(new Spi(manager), PROVIDER, "OpenDPS-fixed");
        }
    }

    private static final class Spi extends KeyManagerFactorySpi {
        private final FixedKeyManager manager;

        Spi(FixedKeyManager manager) {
            this.manager = manager;
        }

        @Override
        protected void engineInit(@Nullable KeyStore store, char @Nullable [] password) {
            // the identity is fixed
        }

        @Override
        protected void engineInit(@Nullable ManagerFactoryParameters parameters) {
            // the identity is fixed
        }

        @Override
        protected KeyManager[] engineGetKeyManagers() {
            return new KeyManager[] {manager};
        }
    }
}
