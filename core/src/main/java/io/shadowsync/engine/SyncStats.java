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
    private volatile long roundCpuNanos;
    private volatile long waitCpuNanos;
    private volatile long trainerCpuNanos;
    private volatile long maxRoundCpuNanos;

    /** totalRawBytes: what float32 would have sent ({@link SyncAlgorithm#rawBytesSent()}). */
    void recordRound(long nanos, long totalBytesSent, long totalRawBytes) {
        rounds++;
        roundNanos += nanos;
        bytesSent = totalBytesSent;
        rawBytesSent = totalRawBytes;
        lastRoundEndNanos = System.nanoTime();
    }

    /**
     * CPU time (the sync thread's own) of a round and of the pacer's wait after it; a thread without a CPU clock
     * records nothing.
     */
    void recordCpu(long roundNanos, long waitNanos) {
        roundCpuNanos += roundNanos;
        waitCpuNanos += waitNanos;
        if (roundNanos > maxRoundCpuNanos) maxRoundCpuNanos = roundNanos;
    }

    /** The CPU time of the trainer's workers and reader in this run, once they have ended. */
    void recordTrainerCpu(long nanos) {
        trainerCpuNanos = nanos;
    }

    /** The sync thread's CPU time in the rounds taken while the workers trained. */
    public long roundCpuNanos() {
        return roundCpuNanos;
    }

    /** The CPU time of the largest of those rounds. */
    public long maxRoundCpuNanos() {
        return maxRoundCpuNanos;
    }

    /** The CPU time of the trainer's workers and reader in this run, once they have ended (0 before). */
    public long trainerCpuNanos() {
        return trainerCpuNanos;
    }

    /** The sync thread's CPU time in the pacer's waits between those rounds (waking to look at the workers). */
    public long waitCpuNanos() {
        return waitCpuNanos;
    }

    /**
     * The shadow's share of its trainer's CPU while the workers trained: the sync thread's CPU time (rounds and waits)
     * over that and the workers' and reader's; 0 without a sync thread, or before the workers have ended. What
     * {@code --sync-cpu} bounds.
     */
    public double cpuShare() {
        long sync = roundCpuNanos + waitCpuNanos, all = sync + trainerCpuNanos;
        return all == 0 || trainerCpuNanos == 0 ? 0 : (double) sync / all;
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
