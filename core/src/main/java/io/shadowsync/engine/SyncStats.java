package io.shadowsync.engine;

import io.shadowsync.sync.SyncAlgorithm;

/** Rounds of one trainer's synchronization. Written by one thread at a time, read by any (volatile). */
public final class SyncStats {
    private volatile long rounds;
    private volatile long roundNanos;
    private volatile long bytesSent;
    private volatile long rawBytesSent;
    private volatile long skippedSteps;
    private volatile long lastRoundEndNanos;

    /** totalRawBytes: what float32 would have sent ({@link SyncAlgorithm#rawBytesSent()}). */
    void recordRound(long nanos, long totalBytesSent, long totalRawBytes) {
        rounds++;
        roundNanos += nanos;
        bytesSent = totalBytesSent;
        rawBytesSent = totalRawBytes;
        lastRoundEndNanos = System.nanoTime();
    }

    void recordBytes(long totalBytesSent) {
        bytesSent = totalBytesSent;
    }

    void recordSkippedStep() {
        skippedSteps++;
    }

    public long rounds() {
        return rounds;
    }

    public double meanRoundMillis() {
        long r = rounds;
        return r == 0 ? 0 : roundNanos / 1e6 / r;
    }

    /**
     * When the last round of this run ended ({@link System#nanoTime()}): when the replica last received the global
     * state; 0 before the first round.
     */
    public long lastRoundEndNanos() {
        return lastRoundEndNanos;
    }

    public long bytesSent() {
        return bytesSent;
    }

    /**
     * The compression ratio of this run's rounds: the bytes float32 would have sent over the bytes sent, encoded
     * ({@code --compress}); 1 without a lossy codec, or before any byte was sent.
     */
    public double compressionRatio() {
        long b = bytesSent, raw = rawBytesSent;
        return b == 0 || raw == 0 ? 1 : (double) raw / b;
    }

    /** Synchronous-SGD steps not applied because the averaged gradient of all workers was not finite (overflow). */
    public long skippedSteps() {
        return skippedSteps;
    }
}
