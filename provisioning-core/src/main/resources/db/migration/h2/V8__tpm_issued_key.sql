-- TPM attestation (issue 8): the HMAC key last issued to each TPM registration id in an activation blob. One row per
-- registration id (keyed lower-case); every new challenge replaces it. endorsement_key_sha256 (hex) binds the key to
-- the endorsement key it was issued for, so an enrollment whose EK changed no longer accepts it. storage_root_key is
-- the device's TPM2B_PUBLIC SRK, needed to wrap the same key again in the final authenticationKey.
CREATE TABLE tpm_issued_key (
    registration_id_key    VARCHAR(128) NOT NULL PRIMARY KEY,
    registration_id        VARCHAR(128) NOT NULL,
    endorsement_key_sha256 VARCHAR(64) NOT NULL,
    storage_root_key       VARBINARY(1024) NOT NULL,
    hmac_key               VARBINARY(64) NOT NULL,
    issued_at              TIMESTAMP(9) WITH TIME ZONE NOT NULL
);
