package io.opendps.broker.tls;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * File handling for TLS material: atomic writes (temporary file, fsync, rename) and POSIX permissions ({@code 0600}
 * for secrets, {@code 0644} for certificates, {@code 0700} for a directory it creates). On file systems without
 * POSIX permissions the modes are skipped. Stateless and thread-safe; failures throw {@link TlsMaterialException}
 * naming the file.
 */
final class TlsFiles {

  private static final Logger LOG = LoggerFactory.getLogger(TlsFiles.class);
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> WORLD_READABLE = PosixFilePermissions.fromString("rw-r--r--");
  private static final Set<PosixFilePermission> PRIVATE_DIRECTORY = PosixFilePermissions.fromString("rwx------");

  private TlsFiles() {}

  /** Creates the directory (and parents) if missing; a directory created here is {@code 0700}. */
  static void createDirectory(Path dir) {
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir);
        if (isPosix(dir)) {
          Files.setPosixFilePermissions(dir, PRIVATE_DIRECTORY);
        }
      }
    } catch (IOException e) {
      throw new TlsMaterialException(dir + ": cannot create directory (" + e + ")", e);
    }
  }

  /** Atomically replaces {@code target} with the text. */
  static void write(Path target, String text, boolean secret) {
    write(target, text.getBytes(StandardCharsets.US_ASCII), secret);
  }

  /** Atomically replaces {@code target} with the bytes; a secret file is never readable by others, not even briefly. */
  static void write(Path target, byte[] content, boolean secret) {
    Path dir = target.toAbsolutePath().getParent();
    @Nullable Path temp = null;
    try {
      Files.createDirectories(dir);
      temp = createTemp(dir, target.getFileName().toString());
      writeAndSync(temp, content);
      if (!secret && isPosix(dir)) {
        Files.setPosixFilePermissions(temp, WORLD_READABLE);
      }
      move(temp, target);
    } catch (IOException e) {
      throw new TlsMaterialException(target + ": cannot be written (" + e + ")", e);
    } finally {
      deleteQuietly(temp);
    }
  }

  /** Logs a warning if a private key file is accessible to anyone but its owner. */
  static void warnIfNotPrivate(Path keyFile) {
    try {
      if (isPosix(keyFile)) {
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(keyFile);
        if (!OWNER_ONLY.containsAll(permissions)) {
          LOG.warn("private key file is accessible to other users, expected mode 0600 [file: {}, mode: {}]",
              keyFile, PosixFilePermissions.toString(permissions));
        }
      }
    } catch (IOException e) {
      LOG.warn("cannot read permissions of private key file [file: {}, error: {}]", keyFile, e.toString());
    }
  }

  static boolean isPosix(Path path) {
    return path.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  private static Path createTemp(Path dir, String name) throws IOException {
    FileAttribute<?>[] attributes = isPosix(dir)
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
        : new FileAttribute<?>[0];
    return Files.createTempFile(dir, "." + name + ".", ".tmp", attributes);
  }

  private static void writeAndSync(Path file, byte[] content) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buffer = ByteBuffer.wrap(content);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(true);
    }
  }

  private static void move(Path source, Path target) throws IOException {
    try {
      Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(source, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void deleteQuietly(@Nullable Path file) {
    if (file == null) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      LOG.debug("cannot delete temporary file [file: {}, error: {}]", file, e.toString());
    }
  }
}
