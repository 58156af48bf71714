package io.opendps.core.tpm;

import java.nio.ByteBuffer;
import java.security.SecureRandom;

/** A deterministic "random" source for known-answer tests: SHA-256(seed || counter) blocks. Never for real keys. */
final class FixedRandom extends SecureRandom {

    private static final long serialVersionUID = 1L;
    private final long seed;
    private long counter;

    FixedRandom(long seed) {
        this.seed = seed;
    }

    @Override
    public synchronized void nextBytes(byte[] bytes) {
        int filled = 0;
        while (filled < bytes.length) {
            byte[] block = TpmCrypto.sha256(ByteBuffer.allocate(16).putLong(seed).putLong(counter++).array());
            int n = Math.min(block.length, bytes.length - filled);
            System.arraycopy(block, 0, bytes, filled, n);
            filled += n;
        }
    }
}
