package io.shadowsync.sync;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.Collective;
import io.shadowsync.comm.ElasticGroup;

/** Steps shared by the collective sync algorithms. */
final class Rounds {
    private Rounds() {}

    /**
     * The round's integer flags ride in its float allreduce, after the parameters, so that a round stays one
     * collective call: a separate {@link Collective#allReduceLongs} (exact, on the typed channel) would add a second
     * pass around the ring, N − 1 more hops of latency, to every round. It is exact, and this is the one place that
     * relies on it: every rank adds 0 or 1 to each flag, so every partial sum, in any order, is an integer of at most
     * the group's size, and a float holds every integer up to 2^24 exactly. {@link #count} reads a flag sum back and
     * refuses one that is not such an integer. Under a lossy codec ({@link Collective#codec()}) the flags must not
     * ride with the parameters, so they take the typed channel in a second call and are put back where {@link #count}
     * reads them.
     */
    static final int MAX_EXACT_COUNT = 1 << 24;

    /** Length of a round's allreduce buffer for n parameters: the flags travel after them. */
    static int bufferLength(Collective trainers, int n) {
        if (trainers.size() >= MAX_EXACT_COUNT) {
            throw new IllegalArgumentException(trainers.size() + " trainers: a round counts them in a float, exact below 2^24");
        }
        return n + (trainers instanceof ElasticGroup ? 3 : 1);
    }

    /** A flag's contribution to a round: 1 or 0. */
    static float flag(boolean b) {
        return b ? 1f : 0f;
    }

    /** The sum of a flag over the round's ranks, at sum[at], checked to be a count (see {@link #MAX_EXACT_COUNT}). */
    static int count(float[] sum, int at) {
        float v = sum[at];
        if (!(v >= 0 && v < MAX_EXACT_COUNT && v == Math.rint(v))) {
            throw new IllegalStateException("a round's flag sum (value " + (at) + " of its buffer) is " + v
                    + ", not a count of trainers: every trainer must contribute 0 or 1 there");
        }
        return (int) v;
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
        sum[n] = flag(training);
        if (trainers instanceof ElasticGroup g) {
            sum[n + 1] = flag(true);
            sum[n + 2] = flag(g.joinersWaiting());
        }
        int len = bufferLength(trainers, n);
        if (trainers.codec().lossless()) {
            trainers.allReduce(sum, 0, len, Collective.ReduceOp.SUM);
        } else {
            long[] flags = new long[len - n];
            for (int i = 0; i < flags.length; i++) flags[i] = (long) sum[n + i];
            trainers.allReduce(sum, 0, n, Collective.ReduceOp.SUM);
            trainers.allReduceLongs(flags, 0, flags.length);
            for (int i = 0; i < flags.length; i++) sum[n + i] = flags[i];
        }
        return count(sum, n);
    }

    /**
     * A trainer's side of compressed rounds: its encoder of the group's lossy codec (with the codec's state: top-k's
     * residual of what was not yet sent, int8's rounding stream) and a buffer for the change. Null without a lossy codec.
     */
    record Compression(Codec.Encoder encoder, float[] change) {
        static Compression of(Collective trainers, int n) {
            return of(trainers, n, true);
        }

        /**
         * As {@link #of(Collective, int)}; without error feedback when {@code feedback} is false ({@link Codec#encoder(long,
         * boolean)}): for messages that are not changes but positions against a fixed reference (gossip), where what one
         * message leaves out is still in the next one.
         */
        static Compression of(Collective trainers, int n, boolean feedback) {
            Codec c = trainers.codec();
            // seeded per rank: the stochastic roundings of two trainers are independent, and a run repeats
            return c.lossless() ? null : new Compression(c.encoder(0x5eed_0000L + trainers.rank(), feedback), new float[n]);
        }
    }

    /**
     * As {@link #averageWithFlag}, but leaves in avg[0..n) the average of the trainers' snapshots, not their sum (the
     * flags after it as there). Without compression, or without a reference (the first round of a run, which sets
     * one), it averages the snapshots themselves ({@code sum · (1/N)}, through the links' codec). With both, it sends
     * the <b>change</b> {@code s − reference} through the group's codec ({@link Collective#allReduceEncoded}) and
     * returns {@code avg = reference + (Σ sent changes) · (1/N)}: changes are small and sparse where parameters are
     * not, so they lose less to a codec, and top-k's error feedback keeps, for the next round, what was not sent. The
     * reference must be the same on every trainer (the last round's target), so every trainer gets the same avg.
     */
    static int average(Collective trainers, float[] w, float[] snapshot, float[] avg, boolean training, float[] reference,
                       Compression z) throws InterruptedException {
        int n = snapshot.length;
        if (z == null || reference == null) {
            int active = averageWithFlag(trainers, w, snapshot, avg, training);
            float inv = 1f / contributors(trainers, avg, n);
            for (int i = 0; i < n; i++) avg[i] = avg[i] * inv;
            return active;
        }
        if (w.length != n) throw new IllegalArgumentException("replica has " + w.length + " parameters, the sync state " + n);
        System.arraycopy(w, 0, snapshot, 0, n);
        requireFinite("trainer " + trainers.rank() + "'s replica", snapshot, n);
        float[] change = z.change();
        for (int i = 0; i < n; i++) change[i] = snapshot[i] - reference[i];
        long[] flags = new long[bufferLength(trainers, n) - n];
        flags[0] = training ? 1 : 0;
        if (trainers instanceof ElasticGroup g) {
            flags[1] = 1;
            flags[2] = g.joinersWaiting() ? 1 : 0;
        }
        trainers.allReduceEncoded(z.encoder(), change, 0, n, Collective.ReduceOp.SUM);
        trainers.allReduceLongs(flags, 0, flags.length);
        for (int i = 0; i < flags.length; i++) avg[n + i] = flags[i];
        float inv = 1f / contributors(trainers, avg, n);
        for (int i = 0; i < n; i++) avg[i] = reference[i] + change[i] * inv;
        return count(avg, n);
    }

    /**
     * Refuses to contribute a replica that went non-finite: one NaN in an allreduce (or pushed to the EASGD center)
     * would spread to every trainer's replica. The job stops instead, naming the parameter.
     */
    static void requireFinite(String who, float[] snapshot, int n) {
        int bad = anyNonFinite(snapshot, n) ? NonFiniteException.firstNonFinite(snapshot, n) : -1;
        if (bad >= 0) {
            throw new NonFiniteException(who + " went non-finite (parameter " + bad + " is " + snapshot[bad] + ")"
                    + ": a non-finite replica is not contributed to a round, so the other trainers' replicas stay finite");
        }
    }

    /**
     * Whether x[0, n) holds a NaN or an infinity (exponent bits all ones; adding 1 to the exponent then carries into
     * the sign bit), in plain int operations. Not {@code Vec.allFinite}: a sync thread takes few rounds, so its code
     * runs interpreted and C1-compiled for its first dozens, and there the Vector API boxes every vector (measured: the
     * first 25-30 rounds of an MLP of 41k parameters cost 3-5 ms of CPU each, against 0.3-1.3 ms with this loop).
     */
    static boolean anyNonFinite(float[] x, int n) {
        int signs = 0;
        for (int i = 0; i < n; i++) signs |= (Float.floatToRawIntBits(x[i]) & 0x7f80_0000) + 0x0080_0000;
        return signs < 0;
    }

    /**
     * How many trainers contributed to the round just taken: the group's size, or in an elastic group the count the
     * round carried (every member of that round added 1), so averages weigh every contributor equally.
     */
    static int contributors(Collective trainers, float[] sum, int n) {
        return trainers instanceof ElasticGroup ? count(sum, n + 1) : trainers.size();
    }

    /**
     * After a round with {@code active} trainers still training: admits the trainers waiting to join when any member
     * heard of them (every member decides alike, from the round's sums), and returns whether the state must now be
     * broadcast to them. None are admitted once every trainer has finished: the job is ending.
     */
    static boolean admitted(Collective trainers, float[] sum, int n, int active) throws InterruptedException {
        return trainers instanceof ElasticGroup g && active > 0 && count(sum, n + 2) > 0 && g.admitJoiners() > 0;
    }

    /**
     * A newcomer's (or a straggler's that was admitted again) side of the broadcast that follows an admission: w
     * becomes what rank 0 broadcasts, received through buffer (at least w's length).
     */
    static void receiveState(ElasticGroup group, float[] buffer, float[] w) throws InterruptedException {
        group.broadcast(buffer, 0, w.length, 0);
        System.arraycopy(buffer, 0, w, 0, w.length);
        group.stateReceived();
    }
}
