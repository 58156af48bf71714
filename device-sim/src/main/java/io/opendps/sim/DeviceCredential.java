package io.opendps.sim;

/**
 * How a simulated device proves its identity to DPS: a symmetric key (SAS token as the MQTT password), an X.509
 * certificate (presented in the TLS handshake, no MQTT password) or a TPM (EK and SRK in the register body, then a
 * TPM-signed SAS token as the MQTT password). Immutable values; safe to share between threads.
 */
public sealed interface DeviceCredential permits SymmetricKeyCredential, X509Credential, TpmCredential {
}
