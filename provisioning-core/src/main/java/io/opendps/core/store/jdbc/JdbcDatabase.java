package io.opendps.core.store.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.opendps.core.store.DuplicateKeyException;
import io.opendps.core.store.StoreException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.LongAdder;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pooled connection to the database with the schema migrated on start. Thread-safe. Owns the pool: call
 * {@link #close()} when done.
 */
public final class JdbcDatabase implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JdbcDatabase.class);
    private static final String UNIQUE_VIOLATION = "23505";

    private final HikariDataSource dataSource;
    private final LongAdder transactions = new LongAdder();

    private JdbcDatabase(HikariDataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Opens the pool and migrates the schema.
     *
     * @throws StoreException when the database cannot be opened or migrated (e.g. another process holds the H2
     *     file)
     */
    public static JdbcDatabase open(DatabaseOptions options) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(options.jdbcUrl());
        config.setUsername(options.user());
        config.setPassword(options.password());
        config.setMaximumPoolSize(options.poolSize());
        config.setPoolName("opendps-db");
        config.setConnectionTimeout(10_000);
        HikariDataSource ds;
        try {
            ds = new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new StoreException("cannot open the database " + redact(options.jdbcUrl()) + ": "
                    + rootMessage(e), e);
        }
        try {
            // Flyway holds one connection for its lock while it migrates over another, so it gets connections of
            // its own: through the pool it would deadlock a pool of one (a single worker thread).
            Flyway.configure()
                    .dataSource(options.jdbcUrl(), options.user(), options.password())
                    .locations("classpath:db/migration/" + options.dialect())
                    .load()
                    .migrate();
        } catch (RuntimeException e) {
            ds.close();
            throw new StoreException("cannot migrate the database schema: " + rootMessage(e), e);
        }
        LOG.info("database ready [url: {}, pool: {}]", redact(options.jdbcUrl()), options.poolSize());
        return new JdbcDatabase(ds);
    }

    /** Work inside one transaction. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    /** Runs {@code work} in a transaction, committing on success and rolling back on any failure. */
    public <T> T inTransaction(String what, Work<T> work) {
        transactions.increment();
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw new DuplicateKeyException(what);
            }
            throw new StoreException("database error while " + what + ": " + e.getMessage(), e);
        }
    }

    /** Whether {@code e} reports a primary key or unique constraint violation. */
    static boolean isUniqueViolation(SQLException e) {
        return UNIQUE_VIOLATION.equals(e.getSQLState());
    }

    /**
     * How many transactions (store round trips) {@link #inTransaction} has run since the database was opened; a
     * cheap counter for tests and benchmarks that measure store work per operation.
     */
    public long transactionCount() {
        return transactions.sum();
    }

    @Override
    public void close() {
        dataSource.close();
    }

    private static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^;&]*", "$1****");
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
