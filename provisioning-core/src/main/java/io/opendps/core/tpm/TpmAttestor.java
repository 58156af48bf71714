package io.opendps.core.tpm;

import io.opendps.core.store.TpmKeyStore;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * Issues and looks up the HMAC keys that TPM devices prove possession of (§7.3).
 *
 * <p>Rules (decided here; the reference is silent): every challenge issues a fresh 32-byte key and replaces the
 * key issued before to the same registration id (the Azure SDKs challenge again on every registration, and a
 * device that lost its TPM-side key can always start over). A key is bound to the SHA-256 of the endorsement key
 * it was issued for; once the enrollment's EK changes the old key no longer authenticates. There is no separate
 * expiry: the device's SAS tokens carry their own, and the key is also the device's hub key, which the hub keeps
 * until the next registration writes a new one. The cost of "replace on every challenge": anyone who knows the
 * (public) EK can make the server issue a new key, which makes a device that is between its challenge and its
 * SAS register (or polling) fail with 401 and start over; it can never make the server accept a key that did not
 * come out of the TPM holding the EK. Thread-safe.
 */
public final class TpmAttestor {

    /** The {@code keyName} of every challenge (the SAS {@code skn} the C SDK echoes; ignored on verification). */
    public static final String KEY_NAME = "registration";

    private final TpmKeyStore store;
    private final Clock clock;
    private final SecureRandom random;

    public TpmAttestor(TpmKeyStore store, Clock clock, SecureRandom random) {
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
    }

    /**
     * Issues a fresh key to {@code registrationId} and returns the challenge carrying it to the TPM with these
     * EK and SRK; {@code uriData} goes encrypted into the blob's last part.
     */
    public TpmChallenge challenge(String registrationId, TpmPublic ek, TpmPublic srk, String uriData) {
        byte[] key = new byte[32];
        random.nextBytes(key);
        ActivationBlob.Parts blob = ActivationBlob.build(ek, srk, key, uriData.getBytes(StandardCharsets.UTF_8),
                random);
        store.save(new IssuedTpmKey(registrationId, ekSha256(ek.tpm2b()), srk.tpm2b(), key, clock.instant()));
        return new TpmChallenge(Base64.getEncoder().encodeToString(blob.bytes()), KEY_NAME);
    }

    /** The key issued to {@code registrationId} for the endorsement key {@code ekTpm2b}, if any. */
    public Optional<IssuedTpmKey> issuedFor(String registrationId, byte[] ekTpm2b) {
        String ekHash = ekSha256(ekTpm2b);
        return store.find(registrationId).filter(k -> k.endorsementKeySha256().equals(ekHash));
    }

    /** The final {@code authenticationKey}: the issued key wrapped again (fresh seeds) for the same TPM. */
    public TpmRegistrationResult finalAuthenticationKey(IssuedTpmKey issued, TpmPublic ek, String uriData)
            throws TpmFormatException {
        TpmPublic srk = TpmPublic.parse(issued.storageRootKey(), "stored storageRootKey");
        ActivationBlob.Parts blob = ActivationBlob.build(ek, srk, issued.key(),
                uriData.getBytes(StandardCharsets.UTF_8), random);
        return new TpmRegistrationResult(Base64.getEncoder().encodeToString(blob.bytes()));
    }

    /** Hex SHA-256 of an EK's {@code TPM2B_PUBLIC}: the key's binding, and how logs name an EK. */
    public static String ekSha256(byte[] ekTpm2b) {
        return HexFormat.of().formatHex(TpmCrypto.sha256(ekTpm2b));
    }
}
