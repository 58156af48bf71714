package io.opendps.core.store.jdbc;

import io.opendps.core.store.EditableEnrollmentStore;
import io.opendps.core.store.EnrollmentStoreContract;
import io.opendps.core.store.RegistrationStore;
import io.opendps.core.testing.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

class JdbcEnrollmentStoreTest implements EnrollmentStoreContract {

    private TestDatabase database;
    private JdbcEnrollmentStore enrollments;
    private JdbcRegistrationStore registrations;

    @BeforeEach
    void open() {
        database = TestDatabase.inMemory();
        enrollments = new JdbcEnrollmentStore(database.db());
        registrations = new JdbcRegistrationStore(database.db());
    }

    @AfterEach
    void close() {
        database.close();
    }

    @Override
    public EditableEnrollmentStore enrollments() {
        return enrollments;
    }

    @Override
    public RegistrationStore registrations() {
        return registrations;
    }
}
