package io.opendps.core.store.jdbc;

import io.opendps.core.store.Ids;
import io.opendps.core.store.TpmKeyStore;
import io.opendps.core.tpm.IssuedTpmKey;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.Optional;

/** Issued TPM keys in the {@code tpm_issued_key} table (Flyway V8). Thread-safe; one short transaction per call. */
public final class JdbcTpmKeyStore implements TpmKeyStore {

    private final JdbcDatabase db;

    public JdbcTpmKeyStore(JdbcDatabase db) {
        this.db = Objects.requireNonNull(db, "db");
    }

    @Override
    public Optional<IssuedTpmKey> find(String registrationId) {
        return db.inTransaction("reading the TPM key of [" + registrationId + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT registration_id, endorsement_key_sha256, "
                    + "storage_root_key, hmac_key, issued_at FROM tpm_issued_key WHERE registration_id_key = ?")) {
                ps.setString(1, Ids.key(registrationId));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    return Optional.of(new IssuedTpmKey(rs.getString(1), rs.getString(2), rs.getBytes(3),
                            rs.getBytes(4), rs.getObject(5, OffsetDateTime.class).toInstant()));
                }
            }
        });
    }

    @Override
    public void save(IssuedTpmKey key) {
        db.inTransaction("saving the TPM key of [" + key.registrationId() + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement("MERGE INTO tpm_issued_key (registration_id_key, "
                    + "registration_id, endorsement_key_sha256, storage_root_key, hmac_key, issued_at) "
                    + "KEY (registration_id_key) VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, Ids.key(key.registrationId()));
                ps.setString(2, key.registrationId());
                ps.setString(3, key.endorsementKeySha256());
                ps.setBytes(4, key.storageRootKey());
                ps.setBytes(5, key.key());
                ps.setObject(6, OffsetDateTime.ofInstant(key.issuedAt(), ZoneOffset.UTC));
                ps.executeUpdate();
            }
            return null;
        });
    }
}
