package io.shadowsync.sync;

import io.shadowsync.comm.Collective;

/** Steps shared by the collective sync algorithms. */
final class Rounds {
    private Rounds() {}

    /**
     * Snapshots w into snapshot, and leaves in sum[0..n) the element-wise sum of all trainers' snapshots; sum[n]
     * carries the "still training" flags, whose sum is returned (rounded: it is a small integer count).
     */
    static int averageWithFlag(Collective trainers, float[] w, float[] snapshot, float[] sum, boolean training)
            throws InterruptedException {
        int n = snapshot.length;
        if (w.length != n) throw new IllegalArgumentException("replica has " + w.length + " parameters, the sync state " + n);
        System.arraycopy(w, 0, snapshot, 0, n);
        System.arraycopy(snapshot, 0, sum, 0, n);
        sum[n] = training ? 1f : 0f;
        trainers.allReduce(sum, 0, n + 1, Collective.ReduceOp.SUM);
        return Math.round(sum[n]);
    }
}
