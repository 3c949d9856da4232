package io.shadowsync.engine;

/** Rounds of one trainer's synchronization. Written by one thread at a time, read by any (volatile). */
public final class SyncStats {
    private volatile long rounds;
    private volatile long roundNanos;
    private volatile long bytesSent;
    private volatile long skippedSteps;

    void recordRound(long nanos, long totalBytesSent) {
        rounds++;
        roundNanos += nanos;
        bytesSent = totalBytesSent;
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

    public long bytesSent() {
        return bytesSent;
    }

    /** Synchronous-SGD steps not applied because the averaged gradient of all workers was not finite (overflow). */
    public long skippedSteps() {
        return skippedSteps;
    }
}
