package io.opendps.core.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.enrollment.IndividualEnrollment;
import io.opendps.core.registration.DeviceRegistrationState;
import io.opendps.core.registration.RegistrationOperation;
import io.opendps.core.store.EnrollmentStoreContract;
import io.opendps.core.store.RegistrationStoreContract;
import io.opendps.core.tpm.IssuedTpmKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded default, an H2 file database: what is written survives closing and reopening it (a restart). */
class JdbcDatabaseRestartTest {

    @TempDir
    Path dir;

    /** Flyway's history: {@code rank:version:success}; rank 0 is its schema-creation marker (no version). */
    private static List<String> history(JdbcDatabase db) {
        return db.inTransaction("reading the migration history", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT \"installed_rank\", \"version\", \"success\" "
                    + "FROM \"flyway_schema_history\" ORDER BY \"installed_rank\"");
                    ResultSet rs = ps.executeQuery()) {
                List<String> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(rs.getInt(1) + ":" + rs.getString(2) + ":" + rs.getBoolean(3));
                }
                return out;
            }
        });
    }

    @Test
    void reopen_fileDatabase_keepsEnrollmentRecordAndOperation() {
        IndividualEnrollment enrollment = EnrollmentStoreContract.enrollment("Sensor-0042", "\"e-1\"");
        DeviceRegistrationState record = RegistrationStoreContract.assigned("sensor-0042", "hub-a.azure-devices.net",
                "ZTE=", RegistrationStoreContract.T0);
        RegistrationOperation operation = RegistrationStoreContract.operation("1.abc.op-1", record,
                RegistrationStoreContract.T0);
        try (JdbcDatabase db = JdbcDatabase.open(DatabaseOptions.h2File(dir))) {
            new JdbcEnrollmentStore(db).insertEnrollment(enrollment);
            new JdbcRegistrationStore(db).saveAttempt(record, operation);
        }
        assertThat(Files.exists(dir.resolve("opendps.mv.db"))).isTrue();

        try (JdbcDatabase db = JdbcDatabase.open(DatabaseOptions.h2File(dir))) {
            assertThat(new JdbcEnrollmentStore(db).findEnrollment("sensor-0042")).contains(enrollment);
            assertThat(new JdbcRegistrationStore(db).find("Sensor-0042")).contains(record);
            assertThat(new JdbcRegistrationStore(db).findOperation("1.abc.op-1")).contains(operation);
        }
    }

    @Test
    void reopen_fileDatabase_keepsTheIssuedTpmKeyAndANewOneReplacesIt() {
        IssuedTpmKey first = new IssuedTpmKey("Tpm-Device", "ab".repeat(32), new byte[] {0, 2, 1, 2},
                new byte[32], RegistrationStoreContract.T0);
        IssuedTpmKey second = new IssuedTpmKey("tpm-device", "cd".repeat(32), new byte[] {0, 1, 9},
                "0123456789abcdef0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                RegistrationStoreContract.T0.plusSeconds(5));
        try (JdbcDatabase db = JdbcDatabase.open(DatabaseOptions.h2File(dir))) {
            new JdbcTpmKeyStore(db).save(first);
        }
        try (JdbcDatabase db = JdbcDatabase.open(DatabaseOptions.h2File(dir))) {
            JdbcTpmKeyStore store = new JdbcTpmKeyStore(db);
            assertThat(store.find("TPM-DEVICE")).contains(first);
            store.save(second);
            assertThat(store.find("tpm-device")).contains(second);
            assertThat(store.find("other")).isEmpty();
        }
    }

    @Test
    void reopen_fileDatabase_migrationRunsOnceAndIsIdempotent() {
        List<String> first;
        try (JdbcDatabase db = JdbcDatabase.open(DatabaseOptions.h2File(dir))) {
            first = history(db);
        }
        assertThat(first).filteredOn(row -> !row.contains(":null:"))
                .containsExactly("1:1:true", "2:2:true", "3:3:true", "4:4:true", "5:5:true", "6:6:true",
                        "7:7:true", "8:8:true");

        try (JdbcDatabase db = JdbcDatabase.open(DatabaseOptions.h2File(dir))) {
            assertThat(history(db)).isEqualTo(first);
        }
        try (JdbcDatabase db = JdbcDatabase.open(DatabaseOptions.h2File(dir))) {
            assertThat(history(db)).isEqualTo(first);
        }
    }
}
