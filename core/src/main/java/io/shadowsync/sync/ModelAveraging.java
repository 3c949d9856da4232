package io.shadowsync.sync;

import io.shadowsync.comm.Collective;

/**
 * Model averaging (MA): {@code t = allreduce(s) / N}. No state. The simplest choice and a good default when the
 * network is fast: every round moves every trainer to the current average.
 *
 * <p>With N = 1 a round leaves w unchanged (t = s).
 */
public final class ModelAveraging implements SyncAlgorithm {
    private final Collective trainers;
    private final float[] snapshot;
    private final float[] sum;

    /** @param size number of dense parameters */
    public ModelAveraging(Collective trainers, int size) {
        if (size < 1) throw new IllegalArgumentException("model averaging needs at least one parameter, got " + size);
        this.trainers = trainers;
        this.snapshot = new float[size];
        this.sum = new float[size + 1];
    }

    @Override
    public String name() {
        return "ma";
    }

    @Override
    public int round(float[] w, boolean training) throws InterruptedException {
        int n = snapshot.length;
        int active = Rounds.averageWithFlag(trainers, w, snapshot, sum, training);
        float inv = 1f / trainers.size();
        // write back the change t − s; workers keep writing w meanwhile (Hogwild race, intended)
        for (int i = 0; i < n; i++) w[i] += sum[i] * inv - snapshot[i];
        return active;
    }

    @Override
    public long bytesSent() {
        return trainers.bytesSent();
    }
}
