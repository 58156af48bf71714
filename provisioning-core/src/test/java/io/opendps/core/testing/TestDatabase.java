package io.opendps.core.testing;

import io.opendps.core.store.jdbc.DatabaseOptions;
import io.opendps.core.store.jdbc.JdbcDatabase;
import java.sql.Statement;
import java.util.UUID;

/**
 * A fresh in-memory H2 database migrated with the production schema, private to one test. Closing it drops
 * everything, so the in-memory database (kept alive by {@code DB_CLOSE_DELAY=-1}) does not outlive the test.
 */
public final class TestDatabase implements AutoCloseable {

    private final JdbcDatabase db;

    private TestDatabase(JdbcDatabase db) {
        this.db = db;
    }

    /** Opens a new, uniquely named in-memory database. */
    public static TestDatabase inMemory() {
        return new TestDatabase(JdbcDatabase.open(DatabaseOptions.h2Memory("test-" + UUID.randomUUID())));
    }

    /** The migrated database. */
    public JdbcDatabase db() {
        return db;
    }

    @Override
    public void close() {
        db.inTransaction("dropping the test database", c -> {
            try (Statement s = c.createStatement()) {
                return s.execute("DROP ALL OBJECTS");
            }
        });
        db.close();
    }
}
