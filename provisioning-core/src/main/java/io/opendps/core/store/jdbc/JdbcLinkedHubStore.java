package io.opendps.core.store.jdbc;

import io.opendps.core.allocation.LinkedHub;
import io.opendps.core.enrollment.AllocationPolicy;
import io.opendps.core.linkedhub.ConnectorType;
import io.opendps.core.linkedhub.StoredLinkedHub;
import io.opendps.core.store.LinkedHubStore;
import io.opendps.core.store.StaleVersionException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Linked hubs in the {@code linked_hub} table ({@code V6__linked_hubs.sql}); the default allocation policy in
 * {@code service_setting} under {@value #DEFAULT_POLICY}. Thread-safe; every call is one short transaction.
 */
public final class JdbcLinkedHubStore implements LinkedHubStore {

    /** The {@code service_setting} name of the default allocation policy. */
    static final String DEFAULT_POLICY = "allocation.defaultPolicy";
    private static final String COLUMNS = "host_name, allocation_weight, apply_allocation_policy, location, "
            + "connector_type, webhook_url, webhook_secret, etag, created, updated";

    private final JdbcDatabase db;

    public JdbcLinkedHubStore(JdbcDatabase db) {
        this.db = Objects.requireNonNull(db, "db");
    }

    @Override
    public List<StoredLinkedHub> list() {
        return db.inTransaction("listing linked hubs", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM linked_hub ORDER BY host_name");
                    ResultSet rs = ps.executeQuery()) {
                List<StoredLinkedHub> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(read(rs));
                }
                return out;
            }
        });
    }

    @Override
    public Optional<StoredLinkedHub> find(String hostName) {
        return db.inTransaction("reading linked hub " + hostName, c -> find(c, key(hostName)));
    }

    @Override
    public void insert(StoredLinkedHub hub) {
        db.inTransaction("linked hub " + hub.hostName(), c -> insert(c, hub));
    }

    @Override
    public void replace(StoredLinkedHub hub, String expectedEtag) {
        db.inTransaction("replacing linked hub " + hub.hostName(), c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE linked_hub SET allocation_weight = ?, "
                    + "apply_allocation_policy = ?, location = ?, connector_type = ?, webhook_url = ?, "
                    + "webhook_secret = ?, etag = ?, updated = ? WHERE host_name = ? AND etag = ?")) {
                ps.setInt(1, hub.hub().allocationWeight());
                ps.setBoolean(2, hub.hub().applyAllocationPolicy());
                ps.setString(3, hub.hub().location());
                ps.setString(4, hub.connector().wire());
                ps.setString(5, hub.webhookUrl());
                ps.setString(6, hub.webhookSecret());
                ps.setString(7, hub.etag());
                ps.setObject(8, OffsetDateTime.ofInstant(hub.updated(), ZoneOffset.UTC));
                ps.setString(9, hub.hostName());
                ps.setString(10, expectedEtag);
                if (ps.executeUpdate() != 1) {
                    throw new StaleVersionException(hub.hostName());
                }
                return null;
            }
        });
    }

    @Override
    public boolean delete(String hostName, @Nullable String expectedEtag) {
        String key = key(hostName);
        return db.inTransaction("deleting linked hub " + key, c -> {
            Optional<StoredLinkedHub> existing = find(c, key);
            if (existing.isEmpty()) {
                return false;
            }
            if (expectedEtag != null && !existing.get().etag().equals(expectedEtag)) {
                throw new StaleVersionException(key);
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM linked_hub WHERE host_name = ?")) {
                ps.setString(1, key);
                return ps.executeUpdate() == 1;
            }
        });
    }

    @Override
    public Optional<AllocationPolicy> defaultPolicy() {
        return db.inTransaction("reading the default allocation policy", c -> readPolicy(c));
    }

    @Override
    public void setDefaultPolicy(AllocationPolicy policy) {
        db.inTransaction("setting the default allocation policy", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "MERGE INTO service_setting (name, setting_value) KEY (name) VALUES (?, ?)")) {
                ps.setString(1, DEFAULT_POLICY);
                ps.setString(2, policy.wire());
                return ps.executeUpdate();
            }
        });
    }

    @Override
    public boolean seed(AllocationPolicy policy, List<StoredLinkedHub> hubs) {
        return db.inTransaction("seeding linked hubs", c -> {
            try (PreparedStatement lock = c.prepareStatement(
                    "SELECT name FROM service_setting WHERE name = ? FOR UPDATE")) {
                lock.setString(1, DEFAULT_POLICY);
                try (ResultSet rs = lock.executeQuery()) {
                    if (rs.next()) {
                        return false;
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO service_setting (name, setting_value) VALUES (?, ?)")) {
                ps.setString(1, DEFAULT_POLICY);
                ps.setString(2, policy.wire());
                ps.executeUpdate();
            }
            for (StoredLinkedHub hub : hubs) {
                if (find(c, hub.hostName()).isEmpty()) {
                    insert(c, hub);
                }
            }
            return true;
        });
    }

    private static Optional<AllocationPolicy> readPolicy(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT setting_value FROM service_setting WHERE name = ?")) {
            ps.setString(1, DEFAULT_POLICY);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(AllocationPolicy.parse(rs.getString(1))) : Optional.empty();
            }
        }
    }

    private static Optional<StoredLinkedHub> find(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM linked_hub WHERE host_name = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        }
    }

    private static @Nullable Void insert(Connection c, StoredLinkedHub hub) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO linked_hub (" + COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, hub.hostName());
            ps.setInt(2, hub.hub().allocationWeight());
            ps.setBoolean(3, hub.hub().applyAllocationPolicy());
            ps.setString(4, hub.hub().location());
            ps.setString(5, hub.connector().wire());
            ps.setString(6, hub.webhookUrl());
            ps.setString(7, hub.webhookSecret());
            ps.setString(8, hub.etag());
            ps.setObject(9, OffsetDateTime.ofInstant(hub.created(), ZoneOffset.UTC));
            ps.setObject(10, OffsetDateTime.ofInstant(hub.updated(), ZoneOffset.UTC));
            ps.executeUpdate();
        }
        return null;
    }

    private static StoredLinkedHub read(ResultSet rs) throws SQLException {
        LinkedHub hub = new LinkedHub(rs.getString("host_name"), rs.getInt("allocation_weight"),
                rs.getBoolean("apply_allocation_policy"), rs.getString("location"));
        return new StoredLinkedHub(hub, ConnectorType.parse(rs.getString("connector_type")),
                rs.getString("webhook_url"), rs.getString("webhook_secret"), rs.getString("etag"),
                rs.getObject("created", OffsetDateTime.class).toInstant(),
                rs.getObject("updated", OffsetDateTime.class).toInstant());
    }

    private static String key(String hostName) {
        return hostName.toLowerCase(Locale.ROOT);
    }
}
