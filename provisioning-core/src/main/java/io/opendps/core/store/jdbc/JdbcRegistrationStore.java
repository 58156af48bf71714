package io.opendps.core.store.jdbc;

import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.HubMove;
import io.opendps.core.registration.RegistrationOperation;
import io.opendps.core.store.Ids;
import io.opendps.core.store.RegistrationStore;
import io.opendps.core.store.StaleVersionException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** Registration records and operations in JDBC tables. Thread-safe. */
public final class JdbcRegistrationStore implements RegistrationStore {

    private final JdbcDatabase db;

    public JdbcRegistrationStore(JdbcDatabase db) {
        this.db = Objects.requireNonNull(db, "db");
    }

    @Override
    public Optional<DeviceRegistrationState> find(String registrationId) {
        return db.inTransaction("reading registration [" + registrationId + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT document FROM registration WHERE id_key = ?")) {
                ps.setString(1, Ids.key(registrationId));
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next()
                            ? Optional.of(Documents.read(rs.getString(1), DeviceRegistrationState.class))
                            : Optional.empty();
                }
            }
        });
    }

    @Override
    public void saveAttempt(DeviceRegistrationState state, RegistrationOperation operation, @Nullable HubMove move) {
        db.inTransaction("saving registration [" + state.registrationId() + "]", c -> {
            upsertRecord(c, state, move);
            insertOperation(c, operation);
            return null;
        });
    }

    @Override
    public void saveOutcome(DeviceRegistrationState state, RegistrationOperation operation, @Nullable HubMove move) {
        db.inTransaction("saving registration outcome [" + state.registrationId() + "]", c -> {
            upsertRecord(c, state, move);
            try (PreparedStatement ps = c.prepareStatement("MERGE INTO registration_operation "
                    + "(operation_id, registration_id_key, created_at, document) KEY (operation_id) VALUES (?, ?, ?, ?)")) {
                ps.setString(1, operation.operationId());
                ps.setString(2, Ids.key(operation.registrationId()));
                ps.setTimestamp(3, Timestamp.from(operation.createdAt()));
                ps.setString(4, Documents.write(operation));
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Insert or replace; {@code reprovision_requested} is left as it is (its own methods change it). */
    private static void upsertRecord(Connection c, DeviceRegistrationState state, @Nullable HubMove move)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("MERGE INTO registration (id_key, group_id_key, etag, document, "
                + "hub_move) KEY (id_key) VALUES (?, ?, ?, ?, ?)")) {
            String group = state.enrollmentGroupId();
            ps.setString(1, Ids.key(state.registrationId()));
            ps.setString(2, group == null ? null : Ids.key(group));
            ps.setString(3, Objects.requireNonNull(state.etag(), "etag"));
            ps.setString(4, Documents.write(state));
            ps.setString(5, move == null ? null : Documents.write(move));
            ps.executeUpdate();
        }
    }

    @Override
    public Optional<HubMove> findMove(String registrationId) {
        return db.inTransaction("reading hub move [" + registrationId + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT hub_move FROM registration WHERE id_key = ?")) {
                ps.setString(1, Ids.key(registrationId));
                try (ResultSet rs = ps.executeQuery()) {
                    String json = rs.next() ? rs.getString(1) : null;
                    return json == null ? Optional.empty() : Optional.of(Documents.read(json, HubMove.class));
                }
            }
        });
    }

    @Override
    public boolean requestReprovision(String registrationId) {
        return setReprovisionRequested(registrationId, true);
    }

    @Override
    public boolean reprovisionRequested(String registrationId) {
        return db.inTransaction("reading reprovision mark [" + registrationId + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT reprovision_requested FROM registration WHERE id_key = ?")) {
                ps.setString(1, Ids.key(registrationId));
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getBoolean(1);
                }
            }
        });
    }

    @Override
    public void clearReprovisionRequest(String registrationId) {
        setReprovisionRequested(registrationId, false);
    }

    private boolean setReprovisionRequested(String registrationId, boolean value) {
        return db.inTransaction("marking registration for reprovisioning [" + registrationId + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE registration SET reprovision_requested = ? WHERE id_key = ?")) {
                ps.setBoolean(1, value);
                ps.setString(2, Ids.key(registrationId));
                return ps.executeUpdate() > 0;
            }
        });
    }

    private static void insertOperation(Connection c, RegistrationOperation op) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO registration_operation "
                + "(operation_id, registration_id_key, created_at, document) VALUES (?, ?, ?, ?)")) {
            ps.setString(1, op.operationId());
            ps.setString(2, Ids.key(op.registrationId()));
            ps.setTimestamp(3, Timestamp.from(op.createdAt()));
            ps.setString(4, Documents.write(op));
            ps.executeUpdate();
        }
    }

    @Override
    public boolean delete(String registrationId, @Nullable String expectedEtag) {
        return db.inTransaction("deleting registration [" + registrationId + "]", c -> {
            String key = Ids.key(registrationId);
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT etag FROM registration WHERE id_key = ? FOR UPDATE")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return false;
                    }
                    if (expectedEtag != null && !expectedEtag.equals(rs.getString(1))) {
                        throw new StaleVersionException(registrationId);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM registration WHERE id_key = ?")) {
                ps.setString(1, key);
                return ps.executeUpdate() > 0;
            }
        });
    }

    @Override
    public List<DeviceRegistrationState> listByGroup(String groupId, @Nullable String afterKey, int limit) {
        return db.inTransaction("listing registrations of group [" + groupId + "]", c -> {
            String sql = "SELECT document FROM registration WHERE group_id_key = ?"
                    + (afterKey == null ? "" : " AND id_key > ?") + " ORDER BY id_key FETCH FIRST ? ROWS ONLY";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                ps.setString(i++, Ids.key(groupId));
                if (afterKey != null) {
                    ps.setString(i++, afterKey);
                }
                ps.setInt(i, limit);
                List<DeviceRegistrationState> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(Documents.read(rs.getString(1), DeviceRegistrationState.class));
                    }
                }
                return out;
            }
        });
    }

    @Override
    public Optional<RegistrationOperation> findOperation(String operationId) {
        return db.inTransaction("reading operation", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT document FROM registration_operation WHERE operation_id = ?")) {
                ps.setString(1, operationId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next()
                            ? Optional.of(Documents.read(rs.getString(1), RegistrationOperation.class))
                            : Optional.empty();
                }
            }
        });
    }

    @Override
    public int purgeOperationsBefore(Instant cutoff) {
        return db.inTransaction("purging operations", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM registration_operation WHERE created_at < ?")) {
                ps.setTimestamp(1, Timestamp.from(cutoff));
                return ps.executeUpdate();
            }
        });
    }
}
