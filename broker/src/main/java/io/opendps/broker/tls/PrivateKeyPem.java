package io.opendps.broker.tls;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.Provider;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;
import org.jspecify.annotations.Nullable;

/**
 * Private keys as PEM, optionally protected by a passphrase, in the formats OpenSSL and the Azure IoT SDK samples
 * read and write.
 *
 * <p>Writing: {@link #toEncryptedPem} produces an {@code ENCRYPTED PRIVATE KEY} block (PKCS#8, PBES2 with
 * PBKDF2-HMAC-SHA256 and AES-256-CBC), the format of {@code openssl pkcs8 -topk8 -v2 aes-256-cbc} and of OpenSSL 3's
 * {@code genpkey -aes-256-cbc}. Unencrypted keys come from {@link Certificates#toPem(java.security.PrivateKey)}.
 *
 * <p>Reading: {@link #parse} accepts {@code PRIVATE KEY} (PKCS#8), {@code ENCRYPTED PRIVATE KEY} (encrypted PKCS#8),
 * and the traditional OpenSSL {@code EC PRIVATE KEY} / {@code RSA PRIVATE KEY} blocks, plain or with
 * {@code Proc-Type: 4,ENCRYPTED} headers. Exactly one key block must be present; other blocks (the
 * {@code EC PARAMETERS} that {@code openssl ecparam -genkey} writes, certificates of a combined file) are ignored.
 *
 * <p>Encryption needs ciphers the JDK's providers do not offer under the names PKCS#8 uses, so this class uses a
 * private BouncyCastle provider instance; it is never registered with {@link java.security.Security}.
 *
 * <p>Stateless and thread-safe. Null: only the passphrase of {@link #parse} and {@link #read} may be null (the key is
 * expected to be unencrypted). Failures throw {@link TlsMaterialException} naming the source; the message says
 * whether a passphrase is missing or wrong and never contains key material or the passphrase.
 */
public final class PrivateKeyPem {

  /** PBKDF2 iterations for new encrypted keys: well above OpenSSL's default of 2048, about 0.1 s to open. */
  public static final int ITERATIONS = 100_000;

  private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();

  private PrivateKeyPem() {}

  /**
   * A private key as an encrypted PKCS#8 PEM {@code ENCRYPTED PRIVATE KEY} block (AES-256-CBC, PBKDF2-HMAC-SHA256).
   *
   * @param passphrase at least one character; the array is not kept or cleared
   * @throws IllegalArgumentException if the passphrase is empty
   * @throws TlsMaterialException if encryption fails
   */
  public static String toEncryptedPem(PrivateKey privateKey, char[] passphrase) {
    if (passphrase.length == 0) {
      throw new IllegalArgumentException("the passphrase must not be empty");
    }
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      OutputEncryptor encryptor = new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC)
          .setPRF(PKCS8Generator.PRF_HMACSHA256)
          .setIterationCount(ITERATIONS)
          .setPassword(passphrase)
          .setProvider(BOUNCY_CASTLE)
          .build();
      writer.writeObject(new JcaPKCS8Generator(privateKey, encryptor));
    } catch (IOException | OperatorCreationException e) {
      throw new TlsMaterialException("cannot encrypt a private key", e);
    }
    return out.toString();
  }

  /**
   * Reads the single private key of a PEM file, decrypting it with the passphrase if it is encrypted.
   *
   * @throws TlsMaterialException naming the file if it cannot be read, holds no usable private key, is encrypted and
   *     no passphrase was given, or the passphrase is wrong
   */
  public static PrivateKey read(Path file, char @Nullable [] passphrase) {
    String pem;
    try {
      pem = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException | RuntimeException e) {
      throw new TlsMaterialException(file + ": cannot be read (" + e + ")", e);
    }
    return parse(pem, file.toString(), passphrase);
  }

  /** Like {@link #read}, for PEM text; {@code source} names it in error messages. */
  public static PrivateKey parse(String pem, String source, char @Nullable [] passphrase) {
    List<Object> keys = parsePem(pem, source).stream().filter(PrivateKeyPem::isPrivateKey).toList();
    if (keys.size() != 1) {
      throw new TlsMaterialException(source + ": expected exactly one PEM private key block, found " + keys.size());
    }
    Object object = keys.get(0);
    if (isEncrypted(object) && passphrase == null) {
      throw new TlsMaterialException(source + ": the private key is encrypted and no passphrase was given");
    }
    PrivateKeyInfo info = toPrivateKeyInfo(object, source, passphrase);
    try {
      return new JcaPEMKeyConverter().getPrivateKey(info);
    } catch (PEMException | RuntimeException e) {
      throw new TlsMaterialException(source + ": the private key cannot be decoded", e);
    }
  }

  /** Whether the PEM text holds an encrypted private key (PKCS#8 or traditional); false if it cannot be parsed. */
  public static boolean isEncrypted(String pem) {
    try {
      return parsePem(pem, "PEM").stream().anyMatch(PrivateKeyPem::isEncrypted);
    } catch (TlsMaterialException e) {
      return false;
    }
  }

  /** Key blocks count; anything else in the file (EC PARAMETERS, certificates) is ignored. */
  private static boolean isPrivateKey(Object pemObject) {
    return pemObject instanceof PrivateKeyInfo || pemObject instanceof PEMKeyPair || isEncrypted(pemObject);
  }

  private static boolean isEncrypted(Object pemObject) {
    return pemObject instanceof PKCS8EncryptedPrivateKeyInfo || pemObject instanceof PEMEncryptedKeyPair;
  }

  private static PrivateKeyInfo toPrivateKeyInfo(Object object, String source, char @Nullable [] passphrase) {
    if (object instanceof PrivateKeyInfo info) {
      return info;
    }
    if (object instanceof PEMKeyPair pair) {
      return pair.getPrivateKeyInfo();
    }
    if (object instanceof PKCS8EncryptedPrivateKeyInfo encrypted && passphrase != null) {
      return decrypt(encrypted, source, passphrase);
    }
    if (object instanceof PEMEncryptedKeyPair encrypted && passphrase != null) {
      return decrypt(encrypted, source, passphrase);
    }
    throw new TlsMaterialException(source + ": expected a private key, found " + object.getClass().getSimpleName());
  }

  private static PrivateKeyInfo decrypt(PKCS8EncryptedPrivateKeyInfo encrypted, String source, char[] passphrase) {
    try {
      return encrypted.decryptPrivateKeyInfo(
          new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BOUNCY_CASTLE).build(passphrase));
    } catch (PKCSException | OperatorCreationException | RuntimeException e) {
      throw wrongPassphrase(source, e);
    }
  }

  private static PrivateKeyInfo decrypt(PEMEncryptedKeyPair encrypted, String source, char[] passphrase) {
    try {
      return encrypted.decryptKeyPair(new JcePEMDecryptorProviderBuilder().setProvider(BOUNCY_CASTLE).build(passphrase))
          .getPrivateKeyInfo();
    } catch (IOException | RuntimeException e) {
      throw wrongPassphrase(source, e);
    }
  }

  private static TlsMaterialException wrongPassphrase(String source, Exception cause) {
    return new TlsMaterialException(source + ": the private key cannot be decrypted; wrong passphrase?", cause);
  }

  private static List<Object> parsePem(String pem, String source) {
    List<Object> objects = new ArrayList<>();
    try (Reader reader = new StringReader(pem);
        PEMParser parser = new PEMParser(reader)) {
      for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
        objects.add(object);
      }
    } catch (IOException | RuntimeException e) {
      throw new TlsMaterialException(source + ": is not valid PEM (" + e.getMessage() + ")", e);
    }
    return objects;
  }
}
