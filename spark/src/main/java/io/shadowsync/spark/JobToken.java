package io.shadowsync.spark;

import io.shadowsync.net.TokenFile;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The per-job secret that authenticates every server the barrier tasks open: made on the driver (32 bytes from
 * SecureRandom, through {@link TokenFile#generate}), carried to the tasks inside the task closure (which Spark's RPC
 * encrypts when the cluster sets {@code spark.authenticate} and {@code spark.network.crypto.enabled}), and written by
 * each task into a mode-600 file in a mode-700 directory for the net module to read, deleted when the task ends.
 * {@link #toString()} never shows it, so a logged closure or exception does not either.
 */
final class JobToken implements Serializable {
    private static final long serialVersionUID = 1L;
    private final String secret;

    private JobToken(String secret) {
        this.secret = secret;
    }

    static JobToken generate() throws IOException {
        Path tmp = TokenFile.generate(Path.of(System.getProperty("java.io.tmpdir")));
        try {
            return new JobToken(new String(TokenFile.read(tmp), StandardCharsets.US_ASCII));
        } finally {
            TokenFile.delete(tmp);
        }
    }

    /** Writes the token for this task's servers and clients; the caller deletes it with {@link TokenFile#delete}. */
    Path writeFile() throws IOException {
        return TokenFile.write(Path.of(System.getProperty("java.io.tmpdir")), secret);
    }

    @Override
    public String toString() {
        return "JobToken(hidden)";
    }
}
