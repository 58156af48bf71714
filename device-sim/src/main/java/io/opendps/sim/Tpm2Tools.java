package io.opendps.sim;

import io.opendps.core.tpm.ActivationBlob;
import io.opendps.core.tpm.TpmCrypto;
import io.opendps.core.tpm.TpmFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * A TPM 2.0 driven through the {@code tpm2-tools} command-line tools (one process per TPM command, TCTI from
 * {@code --tcti}, e.g. {@code swtpm:host=127.0.0.1,port=2321} or {@code device:/dev/tpmrm0}), following
 * {@code dps-device-protocol.md} §7.2 and §7.9: the EK and SRK at their persistent handles ({@code 0x81010001},
 * {@code 0x81000001}), created with the Azure SDKs' templates when absent, and the issued HMAC key imported from
 * an activation blob and persisted at {@code 0x81000100}. The key never leaves the TPM: SAS signatures are
 * {@code tpm2_hmac} results. {@code tpm2_flushcontext -t} runs after each step because a simulator socket has no
 * resource manager. Blocking; one instance per TPM, not thread-safe. Files live in a private temporary directory
 * removed by {@link #close()}.
 */
final class Tpm2Tools implements AutoCloseable {

    static final String EK_HANDLE = "0x81010001";
    static final String SRK_HANDLE = "0x81000001";
    static final String ID_KEY_HANDLE = "0x81000100";
    /** The EK template's policy: PolicySecret(TPM_RH_ENDORSEMENT) (§7.2). */
    static final String EK_POLICY = "837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa";
    private static final String EK_ATTRIBUTES =
            "fixedtpm|fixedparent|sensitivedataorigin|adminwithpolicy|restricted|decrypt";
    private static final String SRK_ATTRIBUTES =
            "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|decrypt";
    private static final long COMMAND_TIMEOUT_SECONDS = 60;

    /** A TPM command failed; the message names the command and carries its error output. */
    static final class TpmException extends Exception {
        private static final long serialVersionUID = 1L;

        TpmException(String message) {
            super(message);
        }
    }

    private final @Nullable String tcti;
    private final Path work;

    /** @param tcti the TCTI configuration; null uses the tools' default (TPM2TOOLS_TCTI or the device) */
    Tpm2Tools(@Nullable String tcti) {
        this.tcti = tcti;
        try {
            this.work = Files.createTempDirectory("opendps-tpm-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for TPM files", e);
        }
    }

    /** The EK's TPM2B_PUBLIC; creates and persists the EK with the standard template if absent. */
    byte[] endorsementKey() throws TpmException {
        if (!readPublic(EK_HANDLE, "ek.pub")) {
            write("ekpolicy.bin", HexFormat.of().parseHex(EK_POLICY));
            run("tpm2_createprimary", "-Q", "-C", "e", "-g", "sha256", "-G", "rsa2048:null:aes128cfb", "-a",
                    EK_ATTRIBUTES, "-L", file("ekpolicy.bin"), "-c", file("ek.ctx"));
            run("tpm2_evictcontrol", "-Q", "-C", "o", "-c", file("ek.ctx"), EK_HANDLE);
            flushTransient();
            if (!readPublic(EK_HANDLE, "ek.pub")) {
                throw new TpmException("the EK was created but cannot be read at " + EK_HANDLE);
            }
        }
        return read("ek.pub");
    }

    /** The SRK's TPM2B_PUBLIC; creates and persists the SRK with the standard template if absent. */
    byte[] storageRootKey() throws TpmException {
        if (!readPublic(SRK_HANDLE, "srk.pub")) {
            run("tpm2_createprimary", "-Q", "-C", "o", "-g", "sha256", "-G", "rsa2048:null:aes128cfb", "-a",
                    SRK_ATTRIBUTES, "-c", file("srk.ctx"));
            run("tpm2_evictcontrol", "-Q", "-C", "o", "-c", file("srk.ctx"), SRK_HANDLE);
            flushTransient();
            if (!readPublic(SRK_HANDLE, "srk.pub")) {
                throw new TpmException("the SRK was created but cannot be read at " + SRK_HANDLE);
            }
        }
        return read("srk.pub");
    }

    /**
     * Imports the HMAC key of an activation blob (base64 {@code authenticationKey}) into the TPM and persists it
     * at {@link #ID_KEY_HANDLE}, replacing the key there: ActivateCredential (EK with a PolicySecret session,
     * SRK as the activation key) releases the inner wrapping key, Import under the SRK, Load, EvictControl.
     *
     * @return the decrypted {@code encUriData}
     */
    byte[] importActivationBlob(String authenticationKey) throws TpmException {
        ActivationBlob.Parts parts;
        try {
            parts = ActivationBlob.Parts.parse(Base64.getDecoder().decode(authenticationKey));
        } catch (IllegalArgumentException | TpmFormatException e) {
            throw new TpmException("the authenticationKey is not an activation blob: " + e.getMessage());
        }
        // tpm2-tools credential file: magic BADCC0DE, version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET
        write("cred.bin", ByteBuffer.allocate(8 + parts.credentialBlob().length + parts.encSecret().length)
                .putInt(0xBADCC0DE).putInt(1).put(parts.credentialBlob()).put(parts.encSecret()).array());
        write("dup.bin", parts.duplicate());
        write("seed.bin", parts.encWrapKey());
        write("idkey.pub", parts.idKeyPublic());
        flushTransient();
        run("tpm2_startauthsession", "-Q", "--policy-session", "-S", file("session.ctx"));
        try {
            run("tpm2_policysecret", "-Q", "-S", file("session.ctx"), "-c", "e");
            run("tpm2_activatecredential", "-Q", "-c", SRK_HANDLE, "-C", EK_HANDLE, "-i", file("cred.bin"), "-o",
                    file("inner.key"), "-P", "session:" + file("session.ctx"));
        } finally {
            runQuietly("tpm2_flushcontext", file("session.ctx"));
        }
        flushTransient();
        run("tpm2_import", "-Q", "-C", SRK_HANDLE, "-u", file("idkey.pub"), "-i", file("dup.bin"), "-s",
                file("seed.bin"), "-k", file("inner.key"), "-r", file("idkey.priv"));
        flushTransient();
        run("tpm2_load", "-Q", "-C", SRK_HANDLE, "-u", file("idkey.pub"), "-r", file("idkey.priv"), "-c",
                file("idkey.ctx"));
        if (readPublic(ID_KEY_HANDLE, "old-idkey.pub")) {
            run("tpm2_evictcontrol", "-Q", "-C", "o", "-c", ID_KEY_HANDLE);
        }
        run("tpm2_evictcontrol", "-Q", "-C", "o", "-c", file("idkey.ctx"), ID_KEY_HANDLE);
        flushTransient();
        byte[] inner = read("inner.key");
        delete("inner.key");
        byte[] encUri = parts.encUriData();
        return TpmCrypto.aesCfb(inner, Arrays.copyOfRange(encUri, 2, encUri.length), false);
    }

    /** HMAC-SHA256 of {@code data} computed by the TPM with the persisted ID key. */
    byte[] hmac(byte[] data) throws TpmException {
        write("hmac-in.bin", data);
        run("tpm2_hmac", "-c", ID_KEY_HANDLE, "-g", "sha256", "-o", file("hmac-out.bin"), file("hmac-in.bin"));
        flushTransient();
        return read("hmac-out.bin");
    }

    private boolean readPublic(String handle, String out) throws TpmException {
        Result result = exec(List.of("tpm2_readpublic", "-Q", "-c", handle, "-o", file(out)));
        flushTransient();
        return result.exitCode() == 0;
    }

    private void flushTransient() throws TpmException {
        runQuietly("tpm2_flushcontext", "-t");
        runQuietly("tpm2_flushcontext", "-l");
    }

    private void run(String... command) throws TpmException {
        Result result = exec(List.of(command));
        if (result.exitCode() != 0) {
            throw new TpmException(command[0] + " failed (exit " + result.exitCode() + "): "
                    + result.output().strip());
        }
    }

    private void runQuietly(String... command) throws TpmException {
        exec(List.of(command));
    }

    private record Result(int exitCode, String output) {
    }

    private Result exec(List<String> command) throws TpmException {
        List<String> full = new ArrayList<>(command);
        if (tcti != null) {
            full.add(1, "--tcti=" + tcti);
        }
        ProcessBuilder builder = new ProcessBuilder(full).directory(work.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new TpmException("cannot run " + command.get(0) + " (is tpm2-tools installed?): " + e.getMessage());
        }
        try {
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new TpmException(command.get(0) + " did not finish within " + COMMAND_TIMEOUT_SECONDS + " s");
            }
            return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
        } catch (IOException e) {
            process.destroyForcibly();
            throw new TpmException("reading the output of " + command.get(0) + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new TpmException(command.get(0) + " was interrupted");
        }
    }

    private String file(String name) {
        return work.resolve(name).toString();
    }

    private void write(String name, byte[] bytes) {
        try {
            Files.write(work.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private byte[] read(String name) throws TpmException {
        try {
            return Files.readAllBytes(work.resolve(name));
        } catch (IOException e) {
            throw new TpmException("the TPM tools wrote no " + name + ": " + e.getMessage());
        }
    }

    private void delete(String name) {
        try {
            Files.deleteIfExists(work.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try (Stream<Path> files = Files.walk(work)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temporary directory
        }
    }

    @Override
    public String toString() {
        return "Tpm2Tools[tcti=" + Objects.requireNonNullElse(tcti, "default") + "]";
    }
}
