package io.opendps.core.store.jdbc;

import io.opendps.core.store.RegistrationStore;
import io.opendps.core.store.RegistrationStoreContract;
import io.opendps.core.testing.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

class JdbcRegistrationStoreTest implements RegistrationStoreContract {

    private TestDatabase database;
    private JdbcRegistrationStore registrations;

    @BeforeEach
    void open() {
        database = TestDatabase.inMemory();
        registrations = new JdbcRegistrationStore(database.db());
    }

    @AfterEach
    void close() {
        database.close();
    }

    @Override
    public RegistrationStore registrations() {
        return registrations;
    }
}
