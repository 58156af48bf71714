package io.opendps.core.store.jdbc;

import io.opendps.core.ca.CaCertificate;
import io.opendps.core.ca.StoredCaCertificate;
import io.opendps.core.store.CaCertificateStore;
import io.opendps.core.store.Ids;
import io.opendps.core.store.StaleVersionException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** CA certificates in the {@code ca_certificate} table. Thread-safe; every call is one short transaction. */
public final class JdbcCaCertificateStore implements CaCertificateStore {

    private static final String COLUMNS = "name, etag, certificate, subject, thumbprint, expiry, is_verified, "
            + "created, updated, verification_code, verification_code_expiry";

    private final JdbcDatabase db;

    public JdbcCaCertificateStore(JdbcDatabase db) {
        this.db = Objects.requireNonNull(db, "db");
    }

    @Override
    public Optional<StoredCaCertificate> find(String name) {
        return db.inTransaction("reading CA certificate [" + name + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                    + " FROM ca_certificate WHERE name_key = ?")) {
                ps.setString(1, Ids.key(name));
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(read(rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public List<StoredCaCertificate> list() {
        return db.inTransaction("listing CA certificates", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                    + " FROM ca_certificate ORDER BY name_key");
                    ResultSet rs = ps.executeQuery()) {
                List<StoredCaCertificate> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(read(rs));
                }
                return out;
            }
        });
    }

    @Override
    public int count() {
        return db.inTransaction("counting CA certificates", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM ca_certificate");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        });
    }

    @Override
    public void insert(StoredCaCertificate stored) {
        db.inTransaction("inserting CA certificate [" + stored.certificate().name() + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO ca_certificate (name_key, " + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, Ids.key(stored.certificate().name()));
                bind(ps, 2, stored);
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public void replace(StoredCaCertificate stored, String expectedEtag) {
        String name = stored.certificate().name();
        int rows = db.inTransaction("updating CA certificate [" + name + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE ca_certificate SET name = ?, etag = ?, "
                    + "certificate = ?, subject = ?, thumbprint = ?, expiry = ?, is_verified = ?, created = ?, "
                    + "updated = ?, verification_code = ?, verification_code_expiry = ? "
                    + "WHERE name_key = ? AND etag = ?")) {
                int next = bind(ps, 1, stored);
                ps.setString(next, Ids.key(name));
                ps.setString(next + 1, expectedEtag);
                return ps.executeUpdate();
            }
        });
        if (rows == 0) {
            throw new StaleVersionException(name);
        }
    }

    @Override
    public boolean delete(String name, @Nullable String expectedEtag) {
        return db.inTransaction("deleting CA certificate [" + name + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT etag FROM ca_certificate WHERE name_key = ? FOR UPDATE")) {
                ps.setString(1, Ids.key(name));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return false;
                    }
                    if (expectedEtag != null && !expectedEtag.equals(rs.getString(1))) {
                        throw new StaleVersionException(name);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM ca_certificate WHERE name_key = ?")) {
                ps.setString(1, Ids.key(name));
                return ps.executeUpdate() > 0;
            }
        });
    }

    /** Binds the eleven {@link #COLUMNS} from {@code index}; returns the next free index. */
    private static int bind(PreparedStatement ps, int index, StoredCaCertificate stored) throws SQLException {
        CaCertificate ca = stored.certificate();
        int i = index;
        ps.setString(i++, ca.name());
        ps.setString(i++, ca.etag());
        ps.setString(i++, ca.certificate());
        ps.setString(i++, ca.subject());
        ps.setString(i++, ca.thumbprint());
        ps.setObject(i++, utc(ca.expiry()));
        ps.setBoolean(i++, ca.isVerified());
        ps.setObject(i++, utc(ca.created()));
        ps.setObject(i++, utc(ca.updated()));
        ps.setString(i++, stored.verificationCode());
        ps.setObject(i++, stored.verificationCodeExpiry() == null ? null : utc(stored.verificationCodeExpiry()));
        return i;
    }

    private static StoredCaCertificate read(ResultSet rs) throws SQLException {
        CaCertificate ca = new CaCertificate(rs.getString(1), rs.getString(3), rs.getString(4), rs.getString(5),
                instant(rs, 6), rs.getBoolean(7), rs.getString(2), instant(rs, 8), instant(rs, 9));
        OffsetDateTime codeExpiry = rs.getObject(11, OffsetDateTime.class);
        return new StoredCaCertificate(ca, rs.getString(10), codeExpiry == null ? null : codeExpiry.toInstant());
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        return rs.getObject(column, OffsetDateTime.class).toInstant();
    }

    private static OffsetDateTime utc(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }
}
