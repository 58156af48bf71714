package io.opendps.broker.tls;

import java.nio.file.Path;

/**
 * Writes PEM files the way the server writes its own TLS material: atomically (temporary file, fsync, rename), private
 * keys with POSIX mode {@code 0600} from the first byte, certificates {@code 0644}. On file systems without POSIX
 * permissions the modes are skipped.
 *
 * <p>Both methods replace an existing file; callers that must not overwrite check first. Stateless and thread-safe.
 * Failures throw {@link TlsMaterialException} naming the file.
 */
public final class PemFiles {

  private PemFiles() {}

  /** Atomically writes secret PEM text (a private key) readable by its owner only. */
  public static void writePrivate(Path file, String pem) {
    TlsFiles.write(file, pem, true);
  }

  /** Atomically writes public PEM text (certificates) readable by everyone. */
  public static void writePublic(Path file, String pem) {
    TlsFiles.write(file, pem, false);
  }
}
