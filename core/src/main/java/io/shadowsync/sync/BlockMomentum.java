package io.shadowsync.sync;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.ElasticGroup;
import io.shadowsync.comm.GroupChangedException;

/**
 * Blockwise model-update filtering, BMUF (Chen and Huo, "Scalable training of deep learning machines by
 * incremental block training with intra-block parallel optimization and blockwise model-update filtering",
 * ICASSP 2016):
 * <pre>
 *   a = allreduce(s) / N;   Δ = μ·Δ + ζ·(a − p);   g = g + Δ;   t = g   (Nesterov: t = g + μ·Δ)
 * </pre>
 * State: g, the last global model (starts at the common initial parameters), and Δ, the block momentum (starts
 * at 0). p is the point the trainers started the block from, the t handed out last round: g, or with Nesterov the
 * look-ahead g + μ·Δ (derived from g and Δ, the same float operations that made the last t, so it is not state of
 * its own). Measuring the block's progress from g while the trainers started at g + μ·Δ would count the momentum
 * twice (with no local progress Δ would grow as μ(1 + ζ) per round, and diverge); measured from p, Δ decays as μ.
 * Defaults: ζ = 1 (block learning rate), μ = 1 − 1/N (block momentum). Pick it over MA when averaging
 * many trainers slows convergence: the momentum recovers the progress that averaging dilutes.
 * With μ = 0 and ζ = 1 it is exactly model averaging. Over an {@link io.shadowsync.comm.ElasticGroup}, N is the
 * number of trainers that took part in the round, and a newcomer receives g and Δ (so p and t as well).
 *
 * <p>Under a lossy codec ({@code --compress}) a round sends the change from the block's start, {@code s − p} (p is the
 * same on every trainer), and {@code a = p + mean(sent changes)} ({@link Rounds#average}).
 *
 * <p>A round taken once this trainer's workers are done (training false) assigns {@code w = t}: nobody writes w
 * any more, and in the last round every trainer thus ends with the same bits.
 */
public final class BlockMomentum implements SyncAlgorithm {
    private final Collective trainers;
    private final float momentum;
    private final float blockLr;
    private final boolean nesterov;
    private final float[] global;
    private final float[] delta;
    private final float[] snapshot;
    private final float[] sum;
    /** With compression: its encoder, and p of the round (the reference of the changes); else null. */
    private final Rounds.Compression compression;
    private final float[] start;

    /**
     * @param initial  the common initial parameters (every trainer must pass the same values)
     * @param momentum μ in [0, 1)
     * @param blockLr  ζ &gt; 0
     */
    public BlockMomentum(Collective trainers, float[] initial, double momentum, double blockLr, boolean nesterov) {
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("BMUF block momentum must be in [0, 1), got " + momentum);
        if (!(blockLr > 0) || Double.isInfinite(blockLr)) throw new IllegalArgumentException("BMUF block learning rate must be positive and finite, got " + blockLr);
        this.trainers = trainers;
        this.momentum = (float) momentum;
        this.blockLr = (float) blockLr;
        this.nesterov = nesterov;
        this.global = initial.clone();
        this.delta = new float[initial.length];
        this.snapshot = new float[initial.length];
        this.sum = new float[Rounds.bufferLength(trainers, initial.length)];
        this.compression = Rounds.Compression.of(trainers, initial.length);
        this.start = compression == null ? null : new float[initial.length];
    }

    /** μ = 1 − 1/N, the default of Chen and Huo for N trainers. */
    public static double defaultMomentum(int trainers) {
        return 1.0 - 1.0 / trainers;
    }

    @Override
    public String name() {
        return nesterov ? "bmuf-nesterov" : "bmuf";
    }

    @Override
    public int round(float[] w, boolean training) throws InterruptedException {
        int active;
        float mu = momentum, zeta = blockLr;
        boolean nest = nesterov;
        if (start != null) {
            for (int i = 0; i < start.length; i++) start[i] = nest ? global[i] + mu * delta[i] : global[i]; // p, as below
        }
        try {
            active = Rounds.average(trainers, w, snapshot, sum, training, start, compression);
        } catch (GroupChangedException e) {
            if (!e.rejoined()) throw e;
            receiveState(w); // dropped as a straggler and admitted again: take g and Δ, go on
            return 1;
        }
        for (int i = 0; i < snapshot.length; i++) {
            float a = sum[i];
            float g0 = global[i], d0 = delta[i];
            float p = nest ? g0 + mu * d0 : g0; // where the trainers started this block: last round's t
            float d = mu * d0 + zeta * (a - p);
            delta[i] = d;
            float g = g0 + d;
            global[i] = g;
            float t = nest ? g + mu * d : g;
            if (training) {
                w[i] += t - snapshot[i]; // the change, racing with the workers (intended)
            } else {
                w[i] = t; // the workers are done: w is s, and every trainer's last round ends on the same bits
            }
        }
        if (Rounds.admitted(trainers, sum, snapshot.length, active)) {
            float[] state = new float[2 * global.length]; // an admission is rare: a buffer for it is fine
            System.arraycopy(global, 0, state, 0, global.length);
            System.arraycopy(delta, 0, state, global.length, delta.length);
            trainers.broadcast(state, 0, state.length, 0);
        }
        return active;
    }

    @Override
    public void prepare(float[] w) throws InterruptedException {
        if (trainers instanceof ElasticGroup g && g.needsState()) receiveState(w);
    }

    /**
     * A newcomer's side of the broadcast after an admission: g and Δ become the group's, w its target t, which is also
     * the start point p its next round derives from them (the same expression as in {@link #round}).
     */
    private void receiveState(float[] w) throws InterruptedException {
        int n = global.length;
        float[] state = new float[2 * n];
        trainers.broadcast(state, 0, state.length, 0);
        System.arraycopy(state, 0, global, 0, n);
        System.arraycopy(state, n, delta, 0, n);
        for (int i = 0; i < n; i++) w[i] = nesterov ? global[i] + momentum * delta[i] : global[i];
        ((ElasticGroup) trainers).stateReceived();
    }

    /** {g, Δ}: the global model and the block momentum (live arrays), for checkpoints. */
    @Override
    public float[][] state() {
        return new float[][] {global, delta};
    }

    /** The global model g after the last round (for tests). */
    public float[] global() {
        return global;
    }

    /** The block momentum Δ after the last round. */
    public float[] momentumState() {
        return delta;
    }

    @Override
    public long bytesSent() {
        return trainers.bytesSent();
    }

    @Override
    public long rawBytesSent() {
        return trainers.rawBytesSent();
    }
}
