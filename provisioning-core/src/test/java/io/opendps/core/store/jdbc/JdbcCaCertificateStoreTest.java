package io.opendps.core.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opendps.core.ca.CaCertificate;
import io.opendps.core.ca.StoredCaCertificate;
import io.opendps.core.store.DuplicateKeyException;
import io.opendps.core.store.StaleVersionException;
import io.opendps.core.testing.TestDatabase;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class JdbcCaCertificateStoreTest {

    private static final Instant T0 = Instant.parse("2024-03-13T15:22:27.5912345Z");

    private TestDatabase database;
    private JdbcCaCertificateStore store;

    @BeforeEach
    void open() {
        database = TestDatabase.inMemory();
        store = new JdbcCaCertificateStore(database.db());
    }

    @AfterEach
    void close() {
        database.close();
    }

    private static StoredCaCertificate ca(String name, String etag, boolean verified, String code) {
        return new StoredCaCertificate(new CaCertificate(name, "-----BEGIN CERTIFICATE-----\nMIIB\n", "CN=" + name,
                "97388663832D0393C9246CAB4FBA2C8677185A25", Instant.parse("2039-12-31T23:59:59Z"), verified, etag,
                T0, T0.plusSeconds(5)), code, code == null ? null : T0.plusSeconds(3600));
    }

    @Test
    void insert_thenFind_roundTripsEveryFieldCaseInsensitively() {
        StoredCaCertificate stored = ca("Contoso-Root", "\"e1\"", false, "ABC123");
        store.insert(stored);

        assertThat(store.find("contoso-root")).contains(stored);
        assertThat(store.count()).isEqualTo(1);
        assertThat(store.list()).containsExactly(stored);
    }

    @Test
    void insert_existingName_isDuplicate() {
        store.insert(ca("root", "\"e1\"", false, null));

        assertThatThrownBy(() -> store.insert(ca("ROOT", "\"e2\"", false, null)))
                .isInstanceOf(DuplicateKeyException.class);
    }

    @Test
    void replace_checksTheEtag() {
        store.insert(ca("root", "\"e1\"", false, "CODE"));
        StoredCaCertificate next = ca("root", "\"e2\"", true, null);

        assertThatThrownBy(() -> store.replace(next, "\"other\"")).isInstanceOf(StaleVersionException.class);
        store.replace(next, "\"e1\"");

        assertThat(store.find("root")).contains(next);
    }

    @Test
    void delete_checksTheEtagAndReportsAbsence() {
        store.insert(ca("root", "\"e1\"", false, null));

        assertThatThrownBy(() -> store.delete("root", "\"x\"")).isInstanceOf(StaleVersionException.class);
        assertThat(store.delete("root", "\"e1\"")).isTrue();
        assertThat(store.delete("root", null)).isFalse();
        assertThat(store.list()).isEmpty();
    }
}
