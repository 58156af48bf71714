package io.opendps.broker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Restricts secret-bearing files to their owner where the file system supports POSIX permissions. */
final class FilePermissions {

    private FilePermissions() {
    }

    static void ownerOnly(Path file) throws IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system (Windows): the ACLs of the data directory apply.
        }
    }
}
