package io.opendps.core.enrollment;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The attestation mechanisms of the Azure model. */
public enum AttestationType {
    @JsonProperty("none") NONE,
    @JsonProperty("tpm") TPM,
    @JsonProperty("x509") X509,
    @JsonProperty("symmetricKey") SYMMETRIC_KEY
}
