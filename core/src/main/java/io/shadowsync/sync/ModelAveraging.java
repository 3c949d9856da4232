package io.shadowsync.sync;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.ElasticGroup;
import io.shadowsync.comm.GroupChangedException;

/**
 * Model averaging (MA): {@code t = allreduce(s) / N}. No state. The simplest choice and a good default when the
 * network is fast: every round moves every trainer to the current average.
 *
 * <p>With N = 1 a round leaves w unchanged (t = s). Over an {@link ElasticGroup}, N is the number of trainers that
 * took part in the round (every contributor weighs the same), and the state a newcomer receives is the last t.
 *
 * <p>A round taken once this trainer's workers are done (training false) assigns {@code w = t} rather than adding
 * {@code t − s} (which can differ from t in the last bit): in the last round every trainer ends with the same bits.
 *
 * <p>Under a lossy codec ({@code --compress}) a round sends the change since the last round, {@code s − t_prev}, and
 * {@code t = t_prev + mean(sent changes)}, the same on every trainer ({@link Rounds#average}); the first round of a run
 * (and of a resumed one) averages the replicas themselves and sets {@code t_prev}. With top-k, what a trainer's
 * change did not send stays in its residual for the next round (error feedback); a resumed run starts with an empty one.
 */
public final class ModelAveraging implements SyncAlgorithm {
    private final Collective trainers;
    private final float[] snapshot;
    private final float[] sum;
    /** With compression: the last round's t (the same on every trainer), or null before the first round. */
    private final Rounds.Compression compression;
    private float[] last;

    /** @param size number of dense parameters */
    public ModelAveraging(Collective trainers, int size) {
        if (size < 1) throw new IllegalArgumentException("model averaging needs at least one parameter, got " + size);
        this.trainers = trainers;
        this.snapshot = new float[size];
        this.sum = new float[Rounds.bufferLength(trainers, size)];
        this.compression = Rounds.Compression.of(trainers, size);
    }

    @Override
    public String name() {
        return "ma";
    }

    @Override
    public int round(float[] w, boolean training) throws InterruptedException {
        int n = snapshot.length;
        int active;
        try {
            active = Rounds.average(trainers, w, snapshot, sum, training, last, compression);
        } catch (GroupChangedException e) {
            if (!e.rejoined()) throw e;
            receiveState(w); // dropped as a straggler and admitted again: take the global model, go on
            return 1;
        }
        for (int i = 0; i < n; i++) {
            float t = sum[i];
            if (training) {
                w[i] += t - snapshot[i]; // the change t − s; workers keep writing w meanwhile (Hogwild race, intended)
            } else {
                w[i] = t; // the workers are done: w is s, and every trainer's last round ends on the same bits
            }
        }
        if (compression != null) {
            if (last == null) last = new float[n];
            System.arraycopy(sum, 0, last, 0, n);
        }
        if (Rounds.admitted(trainers, sum, n, active)) trainers.broadcast(sum, 0, n, 0);
        return active;
    }

    @Override
    public void prepare(float[] w) throws InterruptedException {
        if (trainers instanceof ElasticGroup g && g.needsState()) receiveState(w);
    }

    /** A newcomer's side of the broadcast after an admission: w becomes the global model t. */
    private void receiveState(float[] w) throws InterruptedException {
        int n = snapshot.length;
        trainers.broadcast(sum, 0, n, 0);
        System.arraycopy(sum, 0, w, 0, n);
        if (compression != null) last = java.util.Arrays.copyOf(sum, n); // the members' reference: this t
        ((ElasticGroup) trainers).stateReceived();
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
