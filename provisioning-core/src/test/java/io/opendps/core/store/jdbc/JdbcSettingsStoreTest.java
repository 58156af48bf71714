package io.opendps.core.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.opendps.core.store.EditableSettingsStore;
import io.opendps.core.store.PolicyLockoutException;
import io.opendps.core.store.SettingsStoreContract;
import io.opendps.core.store.StoreException;
import io.opendps.core.testing.TestDatabase;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class JdbcSettingsStoreTest implements SettingsStoreContract {

    private TestDatabase database;
    private JdbcSettingsStore settings;

    @BeforeEach
    void open() {
        database = TestDatabase.inMemory();
        settings = new JdbcSettingsStore(database.db());
    }

    @AfterEach
    void close() {
        database.close();
    }

    @Override
    public EditableSettingsStore settings() {
        return settings;
    }

    /**
     * A transaction that deleted one of the last two ServiceConfig policies is still open while the store deletes
     * the other one. The store must wait for it (its lock on every policy row) and, once it commits, refuse:
     * without the lock the store would still see the first policy and commit, leaving no administrator.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void deletePolicy_whileAnotherTransactionRemovesAnAdministrator_waitsAndIsRefused() throws Exception {
        assertSecondWriterRefused(() -> settings.deletePolicy("admin-b", null));
    }

    /** As above, with the store taking ServiceConfig away from the other policy instead of deleting it. */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void replacePolicy_whileAnotherTransactionRemovesAnAdministrator_waitsAndIsRefused() throws Exception {
        assertSecondWriterRefused(() -> {
            settings.replacePolicy(SettingsStoreContract.reader("admin-b", "\"b2\""), "\"b\"");
            return true;
        });
    }

    private void assertSecondWriterRefused(Callable<Boolean> secondWriter) throws Exception {
        settings.insertPolicy(SettingsStoreContract.admin("admin-a", "\"a\""));
        settings.insertPolicy(SettingsStoreContract.admin("admin-b", "\"b\""));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        AtomicReference<Thread> second = new AtomicReference<>();
        try {
            Future<Boolean> concurrent = database.db().inTransaction("first writer", c -> {
                try (Statement st = c.createStatement()) {
                    st.executeUpdate("DELETE FROM access_policy WHERE key_name_key = 'admin-a'");
                }
                Future<Boolean> f = pool.submit(() -> {
                    second.set(Thread.currentThread());
                    return secondWriter.call();
                });
                await().atMost(Duration.ofSeconds(20)).until(() -> f.isDone() || isWaiting(second.get()));
                return f;
            });

            Throwable outcome = catchThrowable(() -> concurrent.get(30, TimeUnit.SECONDS));

            assertThat(outcome).as("the second writer must not succeed").isInstanceOf(ExecutionException.class);
            assertThat(outcome.getCause()).isInstanceOfAny(PolicyLockoutException.class, StoreException.class);
            assertThat(settings.storedPolicies()).singleElement().satisfies(p -> {
                assertThat(p.keyName()).isEqualTo("admin-b");
                assertThat(p.isAdministrator()).isTrue();
            });
        } finally {
            pool.shutdownNow();
        }
    }

    private static boolean isWaiting(@Nullable Thread t) {
        return t != null && (t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING);
    }
}
