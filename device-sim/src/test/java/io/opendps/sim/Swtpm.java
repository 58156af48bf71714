package io.opendps.sim;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A software TPM 2.0 ({@code swtpm socket}) for tests: its own state directory, ephemeral ports (a free consecutive
 * pair, probed then handed to swtpm: the swtpm TCTI finds the control port at command port + 1), manufactured and started ({@code not-need-init,startup-clear}); {@link #close()} kills it. Every
 * instance is a different TPM (fresh EPS, so a different EK). CI installs the Debian packages {@code swtpm} and
 * {@code tpm2-tools}; the tests require them and do not skip.
 */
final class Swtpm implements AutoCloseable {

    private final Process process;
    private final int port;

    private Swtpm(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts a TPM with its state in {@code stateDir}; waits until its command port accepts connections. */
    static Swtpm start(Path stateDir) throws IOException {
        Files.createDirectories(stateDir);
        int port = freePortPair();
        int ctrl = port + 1;
        Process process = new ProcessBuilder(List.of("swtpm", "socket", "--tpm2", "--tpmstate",
                "dir=" + stateDir, "--server", "type=tcp,port=" + port + ",bindaddr=127.0.0.1", "--ctrl",
                "type=tcp,port=" + ctrl + ",bindaddr=127.0.0.1", "--flags", "not-need-init,startup-clear"))
                .redirectErrorStream(true)
                .redirectOutput(stateDir.resolve("swtpm.log").toFile())
                .start();
        Swtpm tpm = new Swtpm(process, port);
        try {
            await("swtpm listening on " + port).atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new IllegalStateException("swtpm exited with " + process.exitValue() + ": "
                                    + Files.readString(stateDir.resolve("swtpm.log")));
                        }
                        return accepts(port);
                    });
        } catch (RuntimeException e) {
            tpm.close();
            throw e;
        }
        return tpm;
    }

    /** The tpm2-tools TCTI of this TPM. */
    String tcti() {
        return "swtpm:host=127.0.0.1,port=" + port;
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A free port whose successor is free too: the swtpm TCTI expects the control port at command port + 1. */
    private static int freePortPair() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket first = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                int port = first.getLocalPort();
                if (port >= 65_535) {
                    continue;
                }
                try (ServerSocket second = new ServerSocket(port + 1, 1, InetAddress.getLoopbackAddress())) {
                    return port;
                } catch (IOException taken) {
                    // try another pair
                }
            }
        }
        throw new IOException("no two consecutive free ports found for swtpm");
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
