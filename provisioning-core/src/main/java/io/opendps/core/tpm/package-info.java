/**
 * TPM 2.0 attestation on the server side ({@code dps-device-protocol.md} §7): reading a device's
 * {@code TPM2B_PUBLIC} ({@link TpmPublic}), TPM object names, KDFa ({@link TpmCrypto}), and the activation blob
 * ({@link ActivationBlob}) that carries a fresh HMAC key to exactly one TPM: the key is duplicated under the
 * device's storage root key (label {@code "DUPLICATE\0"}, inner AES-128-CFB wrapper, outer STORAGE/INTEGRITY
 * wrapper) and the inner wrapping key is protected to the endorsement key by the MakeCredential construction
 * (label {@code "IDENTITY\0"}, bound to the SRK's name). The byte layout is the one the Azure SDKs parse (§7.4).
 *
 * <p>Decisions: the crypto runs on the JDK providers (RSA-OAEP with SHA-256/MGF1-SHA-256 and a
 * {@link javax.crypto.spec.PSource.PSpecified} label, {@code AES/CFB/NoPadding}, HmacSHA256), which compute
 * exactly the primitives of the reference's BouncyCastle recipe without making BouncyCastle a runtime dependency
 * of the core; the unit tests cross-check the OAEP label handling against BouncyCastle's {@code OAEPEncoding}, and
 * the end-to-end test runs the blob through a real software TPM (swtpm + tpm2-tools). Only RSA endorsement and
 * storage root keys are supported (the templates every SDK uses, §7.2): an ECC EK would need the ECDH-based
 * secret sharing (KDFe), which no SDK examined uses; such a device is told so. The issued key's object is a
 * keyed-hash HMAC-SHA-256 key with an empty auth value (§7.5).
 *
 * <p>Every type in this package is null-marked. Key bytes never appear in exception messages or
 * {@code toString()} output.
 */
@NullMarked
package io.opendps.core.tpm;

import org.jspecify.annotations.NullMarked;
