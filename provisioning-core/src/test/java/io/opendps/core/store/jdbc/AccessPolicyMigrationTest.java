package io.opendps.core.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.opendps.core.service.AccessPolicy;
import io.opendps.core.service.AccessRight;
import io.opendps.core.service.StoredAccessPolicy;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A database created before policies were editable (schema V2) keeps its owner policy and gains etag/timestamps. */
class AccessPolicyMigrationTest {

    @TempDir
    Path dir;

    @Test
    void migrateFromV2_existingOwnerPolicy_getsEtagAndTimestamps() throws Exception {
        DatabaseOptions options = DatabaseOptions.h2File(dir);
        Flyway.configure().dataSource(options.jdbcUrl(), options.user(), options.password())
                .locations("classpath:db/migration/h2").target("2").load().migrate();
        AccessPolicy legacy = AccessPolicy.newOwner();
        try (Connection c = DriverManager.getConnection(options.jdbcUrl(), options.user(), options.password());
                PreparedStatement ps = c.prepareStatement("INSERT INTO access_policy (key_name_key, key_name, "
                        + "primary_key, secondary_key, rights) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, legacy.keyName());
            ps.setString(2, legacy.keyName());
            ps.setString(3, legacy.primaryKey());
            ps.setString(4, legacy.secondaryKey());
            ps.setString(5, legacy.rightsText());
            ps.executeUpdate();
        }
        Instant before = Instant.now().minus(Duration.ofMinutes(1));

        try (JdbcDatabase db = JdbcDatabase.open(options)) {
            StoredAccessPolicy owner = new JdbcSettingsStore(db).findPolicy(AccessPolicy.OWNER).orElseThrow();

            assertThat(owner.policy()).isEqualTo(legacy);
            assertThat(owner.policy().rights()).isEqualTo(EnumSet.allOf(AccessRight.class));
            assertThat(owner.etag()).matches("\"[0-9a-f-]{36}\"");
            assertThat(owner.created()).isAfter(before).isEqualTo(owner.updated());
        }
    }
}
