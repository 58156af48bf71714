-- CA certificates for X.509 enrollment groups (dps-service-api.md §14). Names are case-insensitive: keyed
-- lower-case, stored as first written. The verification code is the single pending proof-of-possession code.

CREATE TABLE ca_certificate (
    name_key                 VARCHAR(128) NOT NULL PRIMARY KEY,
    name                     VARCHAR(128) NOT NULL,
    etag                     VARCHAR(64)  NOT NULL,
    certificate              CHARACTER LARGE OBJECT NOT NULL,
    subject                  VARCHAR(4096) NOT NULL,
    thumbprint               VARCHAR(64)  NOT NULL,
    expiry                   TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    is_verified              BOOLEAN      NOT NULL,
    created                  TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    updated                  TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    verification_code        VARCHAR(128),
    verification_code_expiry TIMESTAMP(9) WITH TIME ZONE
);
