package io.opendps.core.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.opendps.core.store.DuplicateKeyException;
import io.opendps.core.store.StoreException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class JdbcDatabaseTest {

    private static DatabaseOptions memory(int poolSize) {
        return new DatabaseOptions("jdbc:h2:mem:pool-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", poolSize);
    }

    private static int count(JdbcDatabase db, String sql) {
        return db.inTransaction("counting", c -> {
            try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        });
    }

    @Test
    void open_poolOfOneConnection_migratesAndServes() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            try (JdbcDatabase db = JdbcDatabase.open(memory(1))) {
                assertThat(count(db, "SELECT COUNT(*) FROM enrollment")).isZero();
            }
        });
    }

    @Test
    void open_afterMigration_holdsNoConnectionsBeyondThePool() {
        try (JdbcDatabase db = JdbcDatabase.open(memory(2))) {
            assertThat(count(db, "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS")).isLessThanOrEqualTo(2);
        }
    }

    @Test
    void inTransaction_uniqueViolation_becomesDuplicateKeyAndRollsBack() {
        try (JdbcDatabase db = JdbcDatabase.open(memory(2))) {
            String insert = "INSERT INTO service_setting (name, setting_value) VALUES ('k', 'v')";

            assertThatThrownBy(() -> db.inTransaction("inserting twice", c -> {
                try (Statement s = c.createStatement()) {
                    s.executeUpdate("INSERT INTO service_setting (name, setting_value) VALUES ('other', 'x')");
                    s.executeUpdate(insert);
                    return s.executeUpdate(insert);
                }
            })).isInstanceOf(DuplicateKeyException.class);
            assertThat(count(db, "SELECT COUNT(*) FROM service_setting")).as("rolled back").isZero();
        }
    }

    @Test
    void inTransaction_otherSqlError_becomesRetryableStoreException() {
        try (JdbcDatabase db = JdbcDatabase.open(memory(2))) {
            assertThatThrownBy(() -> count(db, "SELECT COUNT(*) FROM no_such_table"))
                    .isInstanceOfSatisfying(StoreException.class, e -> assertThat(e.code().isRetryable()).isTrue())
                    .hasMessageContaining("database error while counting");
        }
    }

    @Test
    void options_nonH2UrlOrEmptyPool_areRejected() {
        assertThatThrownBy(() -> new DatabaseOptions("jdbc:postgresql://x/db", "u", "p", 2))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> memory(0)).hasMessageContaining("poolSize");
    }
}
