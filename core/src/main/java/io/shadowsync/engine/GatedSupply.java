package io.shadowsync.engine;

import io.shadowsync.data.Batch;
import io.shadowsync.engine.feed.BatchSupply;

/**
 * A trainer's {@link BatchSupply} with its workers' pause points: before taking its next batch a worker has applied
 * every batch it took, so that is where it rests while a checkpoint is taken ({@link PauseGate}). A worker that
 * receives {@link #END} leaves the gate.
 */
final class GatedSupply implements BatchSupply {
    private final BatchSupply feeder;
    private final PauseGate gate;
    private final int firstParticipant;

    /** Worker w of this trainer is participant {@code firstParticipant + w} of the gate. */
    GatedSupply(BatchSupply feeder, PauseGate gate, int firstParticipant) {
        this.feeder = feeder;
        this.gate = gate;
        this.firstParticipant = firstParticipant;
    }

    @Override
    public Batch take(int worker) throws InterruptedException {
        gate.beforeOp(firstParticipant + worker);
        Batch b = feeder.take(worker);
        if (b == END) gate.exit(firstParticipant + worker);
        return b;
    }

    @Override
    public void recycle(int worker, Batch b) {
        feeder.recycle(worker, b);
    }

    @Override
    public void stop() {
        feeder.stop();
    }

    @Override
    public Throwable failure() {
        return feeder.failure();
    }

    @Override
    public long skippedLines() {
        return feeder.skippedLines();
    }

    @Override
    public int epochsStarted() {
        return feeder.epochsStarted();
    }

    @Override
    public Runnable readerTask() {
        return feeder.readerTask();
    }

    @Override
    public JobState.DataPosition position() {
        return feeder.position();
    }

    @Override
    public void restore(JobState.DataPosition position) {
        feeder.restore(position);
    }

    @Override
    public JobState.DataPosition positionAt(long[] taken) {
        return feeder.positionAt(taken);
    }
}
