package io.opendps.core.store.jdbc;

import io.opendps.core.store.Ids;
import io.opendps.core.store.StaleVersionException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A table of JSON documents keyed by a lower-cased id, with an etag for optimistic locking. The table name is
 * a constant chosen by the store, never user input.
 */
final class DocumentTable<T> {

    private final JdbcDatabase db;
    private final String table;
    private final Class<T> type;

    DocumentTable(JdbcDatabase db, String table, Class<T> type) {
        this.db = db;
        this.table = table;
        this.type = type;
    }

    Optional<T> find(String id) {
        return db.inTransaction("reading " + table, c -> find(c, Ids.key(id)));
    }

    Optional<T> find(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT document FROM " + table + " WHERE id_key = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(Documents.read(rs.getString(1), type)) : Optional.empty();
            }
        }
    }

    void insert(String id, String etag, T document) {
        db.inTransaction("inserting into " + table + " [" + id + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO " + table + " (id_key, etag, document) VALUES (?, ?, ?)")) {
                ps.setString(1, Ids.key(id));
                ps.setString(2, etag);
                ps.setString(3, Documents.write(document));
                return ps.executeUpdate();
            }
        });
    }

    /** A document to insert with its id and etag. */
    record Row<T>(String id, String etag, T document) {
    }

    /**
     * Inserts every row in one transaction; a row whose id exists is skipped (rolled back to a savepoint taken
     * before it) and its id returned.
     */
    Set<String> insertAll(List<Row<T>> rows) {
        return db.inTransaction("inserting " + rows.size() + " rows into " + table, c -> {
            Set<String> existing = new LinkedHashSet<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO " + table + " (id_key, etag, document) VALUES (?, ?, ?)")) {
                for (Row<T> row : rows) {
                    ps.setString(1, Ids.key(row.id()));
                    ps.setString(2, row.etag());
                    ps.setString(3, Documents.write(row.document()));
                    Savepoint before = c.setSavepoint();
                    try {
                        ps.executeUpdate();
                        c.releaseSavepoint(before);
                    } catch (SQLException e) {
                        if (!JdbcDatabase.isUniqueViolation(e)) {
                            throw e;
                        }
                        c.rollback(before);
                        existing.add(row.id());
                    }
                }
            }
            return existing;
        });
    }

    void replace(String id, String etag, T document, String expectedEtag) {
        int rows = db.inTransaction("updating " + table + " [" + id + "]", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE " + table + " SET etag = ?, document = ? WHERE id_key = ? AND etag = ?")) {
                ps.setString(1, etag);
                ps.setString(2, Documents.write(document));
                ps.setString(3, Ids.key(id));
                ps.setString(4, expectedEtag);
                return ps.executeUpdate();
            }
        });
        if (rows == 0) {
            throw new StaleVersionException(id);
        }
    }

    boolean delete(Connection c, String id, @Nullable String expectedEtag) throws SQLException {
        String key = Ids.key(id);
        try (PreparedStatement ps = c.prepareStatement("SELECT etag FROM " + table + " WHERE id_key = ? FOR UPDATE")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
                if (expectedEtag != null && !expectedEtag.equals(rs.getString(1))) {
                    throw new StaleVersionException(id);
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE id_key = ?")) {
            ps.setString(1, key);
            return ps.executeUpdate() > 0;
        }
    }

    List<T> list(@Nullable String afterKey, int limit) {
        return db.inTransaction("listing " + table, c -> {
            String sql = "SELECT document FROM " + table + (afterKey == null ? "" : " WHERE id_key > ?")
                    + " ORDER BY id_key FETCH FIRST ? ROWS ONLY";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                if (afterKey != null) {
                    ps.setString(i++, afterKey);
                }
                ps.setInt(i, limit);
                List<T> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(Documents.read(rs.getString(1), type));
                    }
                }
                return out;
            }
        });
    }
}
