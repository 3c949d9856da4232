package io.shadowsync.engine;

import io.shadowsync.data.Batch;
import io.shadowsync.engine.feed.BatchSupply;

/**
 * A trainer's {@link BatchSupply} with its workers' pause points: before taking its next batch a worker has applied
 * every batch it took, so that is where it rests while a checkpoint is taken ({@link PauseGate}). A worker that
 * receives {@link #END} leaves the gate.
 *
 * <p><b>Looking ahead.</b> {@link #peek} takes a worker's next batch from the feeder while it trains the one in hand
 * (the next {@link #take} hands it over after the gate), unless a pause is asked for. A pause that comes after the
 * peek finds the worker resting with that batch taken but not trained: {@link #position} leaves it out, so a
 * checkpoint resumes with it.
 */
final class GatedSupply implements BatchSupply {
    private final BatchSupply feeder;
    private final PauseGate gate;
    private final int firstParticipant;
    /** Per worker, the batch taken ahead, or null; written by the worker, read at rest (the gate's lock orders them). */
    private final Batch[] ahead;

    /** Worker w of this trainer is participant {@code firstParticipant + w} of the gate. */
    GatedSupply(BatchSupply feeder, PauseGate gate, int firstParticipant) {
        this.feeder = feeder;
        this.gate = gate;
        this.firstParticipant = firstParticipant;
        this.ahead = new Batch[gate.participants()];
    }

    @Override
    public Batch take(int worker) throws InterruptedException {
        gate.beforeOp(firstParticipant + worker);
        Batch b = ahead[worker];
        if (b != null) ahead[worker] = null;
        else b = feeder.take(worker);
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
    public Batch peek(int worker) throws InterruptedException {
        Batch b = ahead[worker];
        if (b != null) return b;
        if (gate.pauseRequested()) return null; // the worker rests after the batch in hand: take nothing more
        b = feeder.take(worker);
        ahead[worker] = b;
        return b;
    }

    /** The feeder's position without the batches taken ahead (read at rest). */
    @Override
    public JobState.DataPosition position() {
        JobState.DataPosition p = feeder.position();
        long[] taken = p.perWorker().clone();
        boolean any = false;
        for (int w = 0; w < taken.length && w < ahead.length; w++) {
            Batch b = ahead[w];
            if (b == null || b == END) continue;
            taken[w] -= b.size;
            any = true;
        }
        return any ? feeder.positionAt(taken) : p;
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
