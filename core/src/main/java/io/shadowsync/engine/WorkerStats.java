package io.shadowsync.engine;

/**
 * Running counters of one worker. Single writer (the worker), any number of readers (progress, summary):
 * every field is written only by its worker and published through {@code volatile}, so readers see
 * consistent-enough monotone values without locks.
 */
public final class WorkerStats {
    private volatile long examples;
    private volatile long trainedExamples;
    private volatile long batches;
    private volatile double lossSum;
    private volatile double labelSum;
    private volatile long nonFinite;
    private volatile long busyNanos;
    private volatile long waitNanos;
    private volatile long syncWaitNanos;

    void record(int n, double batchLossSum, double batchLabelSum, long busy, long wait, long syncWait) {
        syncWaitNanos += syncWait;
        examples += n;
        trainedExamples += n;
        batches++;
        lossSum += batchLossSum;
        labelSum += batchLabelSum;
        busyNanos += busy;
        waitNanos += wait;
    }

    void recordNonFinite(int n, long busy, long wait, long syncWait) {
        syncWaitNanos += syncWait;
        nonFinite++;
        examples += n;
        batches++;
        busyNanos += busy;
        waitNanos += wait;
    }

    public long examples() {
        return examples;
    }

    /** Examples of the batches whose step was applied: {@link #examples()} less those of non-finite batches. */
    public long trainedExamples() {
        return trainedExamples;
    }

    public long batches() {
        return batches;
    }

    /** Sum over the trained examples so far of the per-example training loss (before each update). */
    public double lossSum() {
        return lossSum;
    }

    public double labelSum() {
        return labelSum;
    }

    /**
     * Batches whose loss or gradient (dense, or any embedding row) was NaN or infinite: their step was skipped, so
     * neither the dense parameters nor the embedding tables saw it. Their examples still count in {@link #examples()}.
     */
    public long nonFinite() {
        return nonFinite;
    }

    /** Nanoseconds spent computing (forward, backward, update). */
    public long busyNanos() {
        return busyNanos;
    }

    /**
     * Nanoseconds spent waiting on others: foreground rounds (the phaser), synchronous steps (collective and barrier),
     * round trips to the parameter servers (embedding pulls and pushes, asynchronous SGD's dense calls). Local tables
     * are read in place: no wait.
     */
    public long syncWaitNanos() {
        return syncWaitNanos;
    }

    void addSyncWait(long nanos) {
        syncWaitNanos += nanos;
    }

    /** Nanoseconds spent taking the next batch: waiting for the reader, or at a pause (a checkpoint). */
    public long waitNanos() {
        return waitNanos;
    }
}
