-- OpenDPS schema, H2 dialect. Production and tests run this same script (Flyway).
-- Documents are the Azure JSON shapes; ids are keyed lower-case (they are case-insensitive).

CREATE TABLE enrollment (
    id_key      VARCHAR(128) NOT NULL PRIMARY KEY,
    etag        VARCHAR(64)  NOT NULL,
    document    CHARACTER LARGE OBJECT NOT NULL
);

CREATE TABLE enrollment_group (
    id_key      VARCHAR(128) NOT NULL PRIMARY KEY,
    etag        VARCHAR(64)  NOT NULL,
    document    CHARACTER LARGE OBJECT NOT NULL
);

CREATE TABLE registration (
    id_key       VARCHAR(128) NOT NULL PRIMARY KEY,
    group_id_key VARCHAR(128),
    etag         VARCHAR(128) NOT NULL,
    document     CHARACTER LARGE OBJECT NOT NULL
);
CREATE INDEX registration_by_group ON registration (group_id_key, id_key);

CREATE TABLE registration_operation (
    operation_id        VARCHAR(128) NOT NULL PRIMARY KEY,
    registration_id_key VARCHAR(128) NOT NULL,
    created_at          TIMESTAMP WITH TIME ZONE NOT NULL,
    document            CHARACTER LARGE OBJECT NOT NULL
);
CREATE INDEX registration_operation_by_age ON registration_operation (created_at);

CREATE TABLE service_setting (
    name          VARCHAR(64)   NOT NULL PRIMARY KEY,
    setting_value VARCHAR(4096) NOT NULL
);

CREATE TABLE access_policy (
    key_name_key  VARCHAR(64)  NOT NULL PRIMARY KEY,
    key_name      VARCHAR(64)  NOT NULL,
    primary_key   VARCHAR(128) NOT NULL,
    secondary_key VARCHAR(128) NOT NULL,
    rights        VARCHAR(256) NOT NULL
);
