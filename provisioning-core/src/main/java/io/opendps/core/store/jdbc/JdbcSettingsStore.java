package io.opendps.core.store.jdbc;

import io.opendps.core.service.AccessPolicy;
import io.opendps.core.service.AccessRight;
import io.opendps.core.store.DuplicateKeyException;
import io.opendps.core.store.Ids;
import io.opendps.core.store.SettingsStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** Service settings and access policies in JDBC tables. Thread-safe. */
public final class JdbcSettingsStore implements SettingsStore {

    private final JdbcDatabase db;

    public JdbcSettingsStore(JdbcDatabase db) {
        this.db = Objects.requireNonNull(db, "db");
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
        return db.inTransaction("reading access policies", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT key_name, primary_key, secondary_key, rights "
                    + "FROM access_policy ORDER BY key_name_key");
                    ResultSet rs = ps.executeQuery()) {
                List<AccessPolicy> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new AccessPolicy(rs.getString(1), rs.getString(2), rs.getString(3),
                            parseRights(rs.getString(4))));
                }
                return out;
            }
        });
    }

    @Override
    public AccessPolicy policyIfAbsent(AccessPolicy policy) {
        try {
            db.inTransaction("creating access policy " + policy.keyName(), c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO access_policy "
                        + "(key_name_key, key_name, primary_key, secondary_key, rights) VALUES (?, ?, ?, ?, ?)")) {
                    ps.setString(1, Ids.key(policy.keyName()));
                    ps.setString(2, policy.keyName());
                    ps.setString(3, policy.primaryKey());
                    ps.setString(4, policy.secondaryKey());
                    ps.setString(5, policy.rightsText());
                    return ps.executeUpdate();
                }
            });
            return policy;
        } catch (DuplicateKeyException e) {
            return policies().stream().filter(p -> p.keyName().equalsIgnoreCase(policy.keyName())).findFirst()
                    .orElseThrow(() -> e);
        }
    }

    private static Set<AccessRight> parseRights(String text) {
        if (text.isBlank()) {
            return EnumSet.noneOf(AccessRight.class);
        }
        return Arrays.stream(text.split(",")).map(AccessRight::parse)
                .collect(Collectors.toCollection(() -> EnumSet.noneOf(AccessRight.class)));
    }
}
