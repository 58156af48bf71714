package io.opendps.core.store.jdbc;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opendps.core.hub.DeviceData;
import io.opendps.core.hub.DeviceIdentity;
import io.opendps.core.hub.HubMessage;
import io.opendps.core.hub.InitialTwin;
import io.opendps.core.hub.Twin;
import io.opendps.core.json.Json;
import io.opendps.core.store.HubStore;
import io.opendps.core.store.Ids;
import io.opendps.core.store.StoreException;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/** The built-in hub's tables ({@code V4__built_in_hub.sql}, twin version {@code V5__hub_twin_version.sql}). Thread-safe. */
public final class JdbcHubStore implements HubStore {

    private static final TypeReference<Map<String, String>> PROPERTIES = new TypeReference<>() {
    };

    private final JdbcDatabase db;

    public JdbcHubStore(JdbcDatabase db) {
        this.db = Objects.requireNonNull(db, "db");
    }

    @Override
    public boolean upsertDevice(DeviceIdentity identity, InitialTwin initialTwin) {
        return db.inTransaction("writing hub device [" + identity.hub() + "/" + identity.deviceId() + "]", c -> {
            boolean exists;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT 1 FROM hub_device WHERE hub_key = ? AND device_id = ? FOR UPDATE")) {
                ps.setString(1, identity.hub());
                ps.setString(2, identity.deviceId());
                try (ResultSet rs = ps.executeQuery()) {
                    exists = rs.next();
                }
            }
            if (exists) {
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE hub_device SET identity = ? WHERE hub_key = ? AND device_id = ?")) {
                    ps.setString(1, Documents.write(identity));
                    ps.setString(2, identity.hub());
                    ps.setString(3, identity.deviceId());
                    ps.executeUpdate();
                }
                return false;
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO hub_device (hub_key, device_id, identity) VALUES (?, ?, ?)")) {
                ps.setString(1, identity.hub());
                ps.setString(2, identity.deviceId());
                ps.setString(3, Documents.write(identity));
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO hub_twin (hub_key, device_id, tags, desired, "
                    + "desired_version, reported, reported_version, twin_version) VALUES (?, ?, ?, ?, 1, '{}', 1, 1)")) {
                ps.setString(1, identity.hub());
                ps.setString(2, identity.deviceId());
                ps.setString(3, Documents.write(initialTwin.tags()));
                ps.setString(4, Documents.write(initialTwin.desired()));
                ps.executeUpdate();
            }
            return true;
        });
    }

    @Override
    public Replaced replaceDevice(DeviceIdentity identity, DeviceData data) {
        return db.inTransaction("replacing hub device [" + identity.hub() + "/" + identity.deviceId() + "]", c -> {
            Twin before = readTwin(c, identity.hub(), identity.deviceId(), true).orElse(null);
            if (before == null) {
                try (PreparedStatement ps = c.prepareStatement("MERGE INTO hub_device (hub_key, device_id, identity) "
                        + "KEY (hub_key, device_id) VALUES (?, ?, ?)")) {
                    ps.setString(1, identity.hub());
                    ps.setString(2, identity.deviceId());
                    ps.setString(3, Documents.write(identity));
                    ps.executeUpdate();
                }
                Twin after = new Twin(identity.hub(), identity.deviceId(), data.tags(), data.desired(), 1,
                        data.reported(), 1, 1);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO hub_twin (hub_key, device_id, tags, "
                        + "desired, desired_version, reported, reported_version, twin_version) "
                        + "VALUES (?, ?, ?, ?, 1, ?, 1, 1)")) {
                    ps.setString(1, identity.hub());
                    ps.setString(2, identity.deviceId());
                    ps.setString(3, Documents.write(after.tags()));
                    ps.setString(4, Documents.write(after.desired()));
                    ps.setString(5, Documents.write(after.reported()));
                    ps.executeUpdate();
                }
                return new Replaced(null, after);
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE hub_device SET identity = ? WHERE hub_key = ? AND device_id = ?")) {
                ps.setString(1, Documents.write(identity));
                ps.setString(2, identity.hub());
                ps.setString(3, identity.deviceId());
                ps.executeUpdate();
            }
            boolean unchanged = data.tags().equals(before.tags()) && data.desired().equals(before.desired())
                    && data.reported().equals(before.reported());
            Twin after = new Twin(before.hub(), before.deviceId(), data.tags(), data.desired(),
                    data.desired().equals(before.desired()) ? before.desiredVersion() : before.desiredVersion() + 1,
                    data.reported(),
                    data.reported().equals(before.reported()) ? before.reportedVersion() : before.reportedVersion() + 1,
                    unchanged ? before.version() : before.version() + 1);
            writeTwin(c, after);
            return new Replaced(before, after);
        });
    }

    @Override
    public Optional<DeviceIdentity> findDevice(String hub, String deviceId) {
        return db.inTransaction("reading hub device [" + hub + "/" + deviceId + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT identity FROM hub_device WHERE hub_key = ? AND device_id = ?")) {
                ps.setString(1, Ids.key(hub));
                ps.setString(2, deviceId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(Documents.read(rs.getString(1), DeviceIdentity.class))
                            : Optional.empty();
                }
            }
        });
    }

    @Override
    public boolean deleteDevice(String hub, String deviceId) {
        return db.inTransaction("deleting hub device [" + hub + "/" + deviceId + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM hub_device WHERE hub_key = ? AND device_id = ?")) {
                ps.setString(1, Ids.key(hub));
                ps.setString(2, deviceId);
                return ps.executeUpdate() > 0;
            }
        });
    }

    @Override
    public List<DeviceIdentity> listDevices(String hub, @Nullable String afterDeviceId, int limit) {
        return db.inTransaction("listing devices of hub [" + hub + "]", c -> {
            String sql = "SELECT identity FROM hub_device WHERE hub_key = ?"
                    + (afterDeviceId == null ? "" : " AND device_id > ?") + " ORDER BY device_id FETCH FIRST ? ROWS ONLY";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                ps.setString(i++, Ids.key(hub));
                if (afterDeviceId != null) {
                    ps.setString(i++, afterDeviceId);
                }
                ps.setInt(i, limit);
                List<DeviceIdentity> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(Documents.read(rs.getString(1), DeviceIdentity.class));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public Optional<Twin> findTwin(String hub, String deviceId) {
        return db.inTransaction("reading twin [" + hub + "/" + deviceId + "]", c -> readTwin(c, hub, deviceId,
                false));
    }

    @Override
    public Optional<Twin> updateTwin(String hub, String deviceId, UnaryOperator<Twin> change) {
        return db.inTransaction("updating twin [" + hub + "/" + deviceId + "]", c -> {
            Optional<Twin> current = readTwin(c, hub, deviceId, true);
            if (current.isEmpty()) {
                return Optional.empty();
            }
            Twin next = change.apply(current.get());
            writeTwin(c, next);
            return Optional.of(next);
        });
    }

    private static void writeTwin(Connection c, Twin twin) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE hub_twin SET tags = ?, desired = ?, "
                + "desired_version = ?, reported = ?, reported_version = ?, twin_version = ? "
                + "WHERE hub_key = ? AND device_id = ?")) {
            ps.setString(1, Documents.write(twin.tags()));
            ps.setString(2, Documents.write(twin.desired()));
            ps.setLong(3, twin.desiredVersion());
            ps.setString(4, Documents.write(twin.reported()));
            ps.setLong(5, twin.reportedVersion());
            ps.setLong(6, twin.version());
            ps.setString(7, Ids.key(twin.hub()));
            ps.setString(8, twin.deviceId());
            ps.executeUpdate();
        }
    }

    private static Optional<Twin> readTwin(Connection c, String hub, String deviceId, boolean lock)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT tags, desired, desired_version, reported, "
                + "reported_version, twin_version FROM hub_twin WHERE hub_key = ? AND device_id = ?" + (lock ? " FOR UPDATE" : ""))) {
            ps.setString(1, Ids.key(hub));
            ps.setString(2, deviceId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Twin(Ids.key(hub), deviceId, object(rs.getString(1)), object(rs.getString(2)),
                        rs.getLong(3), object(rs.getString(4)), rs.getLong(5), rs.getLong(6)));
            }
        }
    }

    @Override
    public HubMessage appendMessage(String hub, String deviceId, Instant enqueuedAt, Map<String, String> properties,
            byte[] body, int cap) {
        if (cap < 1) {
            throw new IllegalArgumentException("message cap must be positive, was " + cap);
        }
        String hubKey = Ids.key(hub);
        return db.inTransaction("appending a message to hub [" + hub + "]", c -> {
            long seq;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO hub_message (hub_key, device_id, enqueued_at, "
                    + "properties, body) VALUES (?, ?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
                ps.setString(1, hubKey);
                ps.setString(2, deviceId);
                ps.setTimestamp(3, Timestamp.from(enqueuedAt));
                ps.setString(4, Documents.write(properties));
                ps.setBytes(5, body);
                ps.executeUpdate();
                try (ResultSet keys = ps.getGeneratedKeys()) {
                    if (!keys.next()) {
                        throw new SQLException("no sequence generated for the message");
                    }
                    seq = keys.getLong(1);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT seq FROM hub_message WHERE hub_key = ? "
                    + "ORDER BY seq DESC OFFSET ? ROWS FETCH NEXT 1 ROWS ONLY")) {
                ps.setString(1, hubKey);
                ps.setInt(2, cap);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        try (PreparedStatement del = c.prepareStatement(
                                "DELETE FROM hub_message WHERE hub_key = ? AND seq <= ?")) {
                            del.setString(1, hubKey);
                            del.setLong(2, rs.getLong(1));
                            del.executeUpdate();
                        }
                    }
                }
            }
            return new HubMessage(seq, hubKey, deviceId, enqueuedAt, properties, body);
        });
    }

    @Override
    public List<HubMessage> messagesAfter(String hub, long afterSequence, int limit) {
        return db.inTransaction("reading messages of hub [" + hub + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT seq, device_id, enqueued_at, properties, body "
                    + "FROM hub_message WHERE hub_key = ? AND seq > ? ORDER BY seq FETCH FIRST ? ROWS ONLY")) {
                ps.setString(1, Ids.key(hub));
                ps.setLong(2, afterSequence);
                ps.setInt(3, limit);
                List<HubMessage> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new HubMessage(rs.getLong(1), Ids.key(hub), rs.getString(2),
                                rs.getTimestamp(3).toInstant(), properties(rs.getString(4)), rs.getBytes(5)));
                    }
                }
                return out;
            }
        });
    }

    private static ObjectNode object(String json) {
        return Documents.read(json, ObjectNode.class);
    }

    private static Map<String, String> properties(String json) {
        try {
            return Json.mapper().readValue(json, PROPERTIES);
        } catch (IOException e) {
            throw new StoreException("stored message properties are corrupt: " + e.getMessage(), e);
        }
    }
}
