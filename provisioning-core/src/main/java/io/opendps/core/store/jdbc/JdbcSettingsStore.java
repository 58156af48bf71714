package io.opendps.core.store.jdbc;

import io.opendps.core.enrollment.Etags;
import io.opendps.core.service.AccessPolicy;
import io.opendps.core.service.AccessRight;
import io.opendps.core.service.StoredAccessPolicy;
import io.opendps.core.store.DuplicateKeyException;
import io.opendps.core.store.EditableSettingsStore;
import io.opendps.core.store.Ids;
import io.opendps.core.store.PolicyLockoutException;
import io.opendps.core.store.StaleVersionException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Service settings and access policies in JDBC tables. Thread-safe; every call is one short transaction. Policy
 * replacements and deletions first lock every policy row ({@code SELECT ... FOR UPDATE}), so the "one policy keeps
 * ServiceConfig" check of {@link EditableSettingsStore} and the write are atomic against other such writes.
 */
public final class JdbcSettingsStore implements EditableSettingsStore {

    private static final String COLUMNS = "key_name, primary_key, secondary_key, rights, etag, created, updated";

    private final JdbcDatabase db;
    private final Clock clock;

    /** A store stamping {@link #policyIfAbsent} inserts with the system UTC clock. */
    public JdbcSettingsStore(JdbcDatabase db) {
        this(db, Clock.systemUTC());
    }

    /** A store stamping {@link #policyIfAbsent} inserts with {@code clock}. */
    public JdbcSettingsStore(JdbcDatabase db, Clock clock) {
        this.db = Objects.requireNonNull(db, "db");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public Optional<String> setting(String name) {
        return db.inTransaction("reading setting " + name, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT setting_value FROM service_setting WHERE name = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public String settingIfAbsent(String name, String value) {
        try {
            db.inTransaction("setting " + name, c -> {
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO service_setting (name, setting_value) VALUES (?, ?)")) {
                    ps.setString(1, name);
                    ps.setString(2, value);
                    return ps.executeUpdate();
                }
            });
            return value;
        } catch (DuplicateKeyException e) {
            return setting(name).orElseThrow(() -> e);
        }
    }

    @Override
    public List<AccessPolicy> policies() {
        return storedPolicies().stream().map(StoredAccessPolicy::policy).toList();
    }

    @Override
    public AccessPolicy policyIfAbsent(AccessPolicy policy) {
        Instant now = clock.instant();
        try {
            insertPolicy(new StoredAccessPolicy(policy, Etags.newEnrollmentEtag(), now, now));
            return policy;
        } catch (DuplicateKeyException e) {
            return findPolicy(policy.keyName()).map(StoredAccessPolicy::policy).orElseThrow(() -> e);
        }
    }

    @Override
    public Optional<StoredAccessPolicy> findPolicy(String keyName) {
        return db.inTransaction("reading access policy [" + keyName + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                    + " FROM access_policy WHERE key_name_key = ?")) {
                ps.setString(1, Ids.key(keyName));
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(read(rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public List<StoredAccessPolicy> storedPolicies() {
        return db.inTransaction("reading access policies", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                    + " FROM access_policy ORDER BY key_name_key");
                    ResultSet rs = ps.executeQuery()) {
                List<StoredAccessPolicy> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(read(rs));
                }
                return out;
            }
        });
    }

    @Override
    public void insertPolicy(StoredAccessPolicy stored) {
        db.inTransaction("creating access policy [" + stored.keyName() + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO access_policy (key_name_key, " + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, Ids.key(stored.keyName()));
                bind(ps, 2, stored);
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public void replacePolicy(StoredAccessPolicy stored, String expectedEtag) {
        String name = stored.keyName();
        db.inTransaction("updating access policy [" + name + "]", c -> {
            lockPolicies(c);
            try (PreparedStatement ps = c.prepareStatement("UPDATE access_policy SET key_name = ?, primary_key = ?, "
                    + "secondary_key = ?, rights = ?, etag = ?, created = ?, updated = ? "
                    + "WHERE key_name_key = ? AND etag = ?")) {
                int next = bind(ps, 1, stored);
                ps.setString(next, Ids.key(name));
                ps.setString(next + 1, expectedEtag);
                if (ps.executeUpdate() == 0) {
                    throw new StaleVersionException(name);
                }
            }
            requireServiceConfigLeft(c, name);
            return Boolean.TRUE;
        });
    }

    @Override
    public boolean deletePolicy(String keyName, @Nullable String expectedEtag) {
        return db.inTransaction("deleting access policy [" + keyName + "]", c -> {
            lockPolicies(c);
            try (PreparedStatement ps = c.prepareStatement("SELECT etag FROM access_policy WHERE key_name_key = ?")) {
                ps.setString(1, Ids.key(keyName));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return false;
                    }
                    if (expectedEtag != null && !expectedEtag.equals(rs.getString(1))) {
                        throw new StaleVersionException(keyName);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM access_policy WHERE key_name_key = ?")) {
                ps.setString(1, Ids.key(keyName));
                ps.executeUpdate();
            }
            requireServiceConfigLeft(c, keyName);
            return true;
        });
    }

    /** Locks every policy row until the transaction ends, serialising the writers that could remove rights. */
    private static void lockPolicies(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT key_name_key FROM access_policy FOR UPDATE");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rs.getString(1);
            }
        }
    }

    private static void requireServiceConfigLeft(Connection c, String keyName) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT rights FROM access_policy");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                if (parseRights(rs.getString(1)).contains(AccessRight.SERVICE_CONFIG)) {
                    return;
                }
            }
        }
        throw new PolicyLockoutException(keyName);
    }

    /** Binds the seven {@link #COLUMNS} from {@code index}; returns the next free index. */
    private static int bind(PreparedStatement ps, int index, StoredAccessPolicy stored) throws SQLException {
        AccessPolicy p = stored.policy();
        int i = index;
        ps.setString(i++, p.keyName());
        ps.setString(i++, p.primaryKey());
        ps.setString(i++, p.secondaryKey());
        ps.setString(i++, p.rightsText());
        ps.setString(i++, stored.etag());
        ps.setObject(i++, stored.created().atOffset(ZoneOffset.UTC));
        ps.setObject(i++, stored.updated().atOffset(ZoneOffset.UTC));
        return i;
    }

    private static StoredAccessPolicy read(ResultSet rs) throws SQLException {
        AccessPolicy policy = new AccessPolicy(rs.getString(1), rs.getString(2), rs.getString(3),
                parseRights(rs.getString(4)));
        return new StoredAccessPolicy(policy, rs.getString(5), rs.getObject(6, OffsetDateTime.class).toInstant(),
                rs.getObject(7, OffsetDateTime.class).toInstant());
    }

    private static Set<AccessRight> parseRights(String text) {
        if (text.isBlank()) {
            return EnumSet.noneOf(AccessRight.class);
        }
        return Arrays.stream(text.split(",")).map(AccessRight::parse)
                .collect(Collectors.toCollection(() -> EnumSet.noneOf(AccessRight.class)));
    }
}
