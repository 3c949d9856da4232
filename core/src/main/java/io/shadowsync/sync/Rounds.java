package io.shadowsync.sync;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.ElasticGroup;

/** Steps shared by the collective sync algorithms. */
final class Rounds {
    private Rounds() {}

    /** Length of a round's allreduce buffer for n parameters: the flags travel after them. */
    static int bufferLength(Collective trainers, int n) {
        return n + (trainers instanceof ElasticGroup ? 3 : 1);
    }

    /**
     * Snapshots w into snapshot, and leaves in sum[0..n) the element-wise sum of all trainers' snapshots; sum[n]
     * carries the "still training" flags, whose sum is returned (rounded: it is a small integer count). In an
     * {@link ElasticGroup}, sum[n+1] counts the contributors (the members of this round, which may be fewer than
     * at the last one) and sum[n+2] whether any of them heard of trainers waiting to join.
     */
    static int averageWithFlag(Collective trainers, float[] w, float[] snapshot, float[] sum, boolean training)
            throws InterruptedException {
        int n = snapshot.length;
        if (w.length != n) throw new IllegalArgumentException("replica has " + w.length + " parameters, the sync state " + n);
        System.arraycopy(w, 0, snapshot, 0, n);
        requireFinite("trainer " + trainers.rank() + "'s replica", snapshot, n);
        System.arraycopy(snapshot, 0, sum, 0, n);
        sum[n] = training ? 1f : 0f;
        if (trainers instanceof ElasticGroup g) {
            sum[n + 1] = 1f;
            sum[n + 2] = g.joinersWaiting() ? 1f : 0f;
        }
        trainers.allReduce(sum, 0, bufferLength(trainers, n), Collective.ReduceOp.SUM);
        return Math.round(sum[n]);
    }

    /**
     * Refuses to contribute a replica that went non-finite: one NaN in an allreduce (or pushed to the EASGD center)
     * would spread to every trainer's replica. The job stops instead, naming the parameter.
     */
    static void requireFinite(String who, float[] snapshot, int n) {
        int bad = NonFiniteException.firstNonFinite(snapshot, n);
        if (bad >= 0) {
            throw new NonFiniteException(who + " went non-finite (parameter " + bad + " is " + snapshot[bad] + ")"
                    + ": a non-finite replica is not contributed to a round, so the other trainers' replicas stay finite");
        }
    }

    /**
     * How many trainers contributed to the round just taken: the group's size, or in an elastic group the count the
     * round carried (every member of that round added 1), so averages weigh every contributor equally.
     */
    static int contributors(Collective trainers, float[] sum, int n) {
        return trainers instanceof ElasticGroup ? Math.round(sum[n + 1]) : trainers.size();
    }

    /**
     * After a round with {@code active} trainers still training: admits the trainers waiting to join when any member
     * heard of them (every member decides alike, from the round's sums), and returns whether the state must now be
     * broadcast to them. None are admitted once every trainer has finished: the job is ending.
     */
    static boolean admitted(Collective trainers, float[] sum, int n, int active) throws InterruptedException {
        return trainers instanceof ElasticGroup g && active > 0 && sum[n + 2] > 0.5f && g.admitJoiners() > 0;
    }
}
