package io.opendps.core.store.jdbc;

import java.nio.file.Path;

/**
 * How to reach the database. {@code dialect} picks the migration scripts ({@code db/migration/<dialect>}).
 *
 * @param jdbcUrl JDBC URL
 * @param user user name (may be empty)
 * @param password password (may be empty)
 * @param poolSize connection pool size, also the size of the worker pool that calls the stores
 */
public record DatabaseOptions(String jdbcUrl, String user, String password, int poolSize) {

    public DatabaseOptions {
        if (poolSize < 1) {
            throw new IllegalArgumentException("poolSize must be at least 1, was " + poolSize);
        }
        if (!jdbcUrl.startsWith("jdbc:h2:")) {
            throw new IllegalArgumentException("only H2 is supported so far (jdbc:h2:...), got " + jdbcUrl);
        }
    }

    /** The embedded default: an H2 file database in {@code dir/opendps.mv.db}. */
    public static DatabaseOptions h2File(Path dir) {
        String path = dir.toAbsolutePath().resolve("opendps").toString();
        return new DatabaseOptions("jdbc:h2:file:" + path + ";DB_CLOSE_ON_EXIT=FALSE", "sa", "", 8);
    }

    /** An in-memory H2 database (tests). */
    public static DatabaseOptions h2Memory(String name) {
        return new DatabaseOptions("jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1", "sa", "", 4);
    }

    /** The migration dialect folder. */
    public String dialect() {
        return "h2";
    }
}
