package io.shadowsync.engine;

import io.shadowsync.sync.SyncAlgorithm;

/**
 * A trainer's {@link SyncAlgorithm} with the pause point of its rounds: a checkpoint holds the trainer between two
 * rounds ({@link PauseGate}). In the foreground the round runs when every worker of the trainer has arrived at the
 * phaser, so resting there holds the whole trainer between steps; the shadow sync thread rests between rounds while
 * the workers rest at their own pause points.
 *
 * <p>A foreground trainer rests <em>before</em> a round its workers asked for ({@link #pendingRound()}): its workers
 * have made the steps that lead to it, so a run resumed from that pause must take that round before its workers go
 * on (see {@code Trainer#run}).
 */
final class GatedAlgorithm implements SyncAlgorithm {
    private final SyncAlgorithm algorithm;
    private final PauseGate gate;
    private final int participant;
    /** Whether the round this thread is about to take, or taking, is a training round (written by that thread only). */
    private volatile boolean pending;

    GatedAlgorithm(SyncAlgorithm algorithm, PauseGate gate, int participant) {
        this.algorithm = algorithm;
        this.gate = gate;
        this.participant = participant;
    }

    @Override
    public String name() {
        return algorithm.name();
    }

    @Override
    public int round(float[] w, boolean training) throws InterruptedException {
        pending = training;
        try {
            gate.beforeOp(participant);
            return algorithm.round(w, training);
        } finally {
            pending = false;
        }
    }

    @Override
    public void prepare(float[] w) throws InterruptedException {
        algorithm.prepare(w);
    }

    /** While the job is paused: whether this trainer rests before a round taken during training (not a finishing one). */
    boolean pendingRound() {
        return pending;
    }

    @Override
    public long bytesSent() {
        return algorithm.bytesSent();
    }

    @Override
    public long rawBytesSent() {
        return algorithm.rawBytesSent();
    }
}
