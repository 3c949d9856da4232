package io.shadowsync.sync;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.ElasticGroup;
import java.util.SplittableRandom;

/**
 * A toy algorithm registered by the tests only (META-INF/services/io.shadowsync.sync.RoundAlgorithm in the test
 * resources), to show that the registry is the only place an algorithm must be named: the job, checkpoint and
 * termination suites, which iterate {@link SyncAlgorithms#all()}, train, checkpoint and stop it as {@code s-gossip}
 * and {@code fr-gossip} without an edit.
 *
 * <p>Each round, the trainers are paired by a permutation drawn from the round number (the same on every trainer),
 * and each trainer averages with its peer: {@code t = (s_me + s_peer) / 2} (with an odd N the last one keeps its own).
 * The pairs travel in one allreduce of ⌈N/2⌉ slots, a trainer writing its snapshot into its pair's slot, plus the
 * "still training" flag; the last round (no trainer training) averages over all slots instead, so every replica ends
 * with the same bits, as the collective contract asks. The round number is the algorithm's checkpoint state.
 */
public final class PeerGossip implements SyncAlgorithm {
    /** The registration: {@code s-gossip} and {@code fr-gossip}. */
    public static final class Definition implements RoundAlgorithm {
        @Override
        public String name() {
            return "gossip";
        }

        @Override
        public String summary() {
            return "averaging with one peer per round (test toy)";
        }

        @Override
        public boolean collective() {
            return true;
        }

        @Override
        public SyncAlgorithm create(SyncContext ctx) {
            return new PeerGossip(ctx.trainerGroup(), ctx.size());
        }

        @Override
        public int stateFloats(int trainers) {
            return 1 + (trainers + 1) / 2;
        }
    }

    private final Collective trainers;
    private final float[] snapshot;
    private final float[] buffer;
    /** The round number, as two 16-bit halves (exact in floats): the checkpoint state. */
    private final float[] round = new float[2];

    PeerGossip(Collective trainers, int size) {
        if (trainers instanceof ElasticGroup) throw new IllegalArgumentException("gossip does not take elastic groups: its pairs need a fixed N");
        this.trainers = trainers;
        this.snapshot = new float[size];
        this.buffer = new float[(trainers.size() + 1) / 2 * size + 1];
    }

    /** Position p of the permutation of round r holds rank perm[p]; pairs are positions (0, 1), (2, 3), … */
    static int[] pairing(int n, long r) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        SplittableRandom rnd = new SplittableRandom(0x5eed ^ r * 0x9E3779B97F4A7C15L);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return perm;
    }

    @Override
    public String name() {
        return "gossip";
    }

    @Override
    public int round(float[] w, boolean training) throws InterruptedException {
        int size = snapshot.length, n = trainers.size(), me = trainers.rank();
        long r = (long) round[0] * 65536 + (long) round[1];
        int[] perm = pairing(n, r);
        int pos = 0;
        while (perm[pos] != me) pos++;
        int slot = pos / 2, members = pos / 2 * 2 + 1 < n ? 2 : 1;
        System.arraycopy(w, 0, snapshot, 0, size);
        Rounds.requireFinite("trainer " + me + "'s replica", snapshot, size);
        java.util.Arrays.fill(buffer, 0f);
        System.arraycopy(snapshot, 0, buffer, slot * size, size);
        buffer[buffer.length - 1] = training ? 1f : 0f;
        trainers.allReduce(buffer, 0, buffer.length, Collective.ReduceOp.SUM);
        int active = Math.round(buffer[buffer.length - 1]);
        int slots = (n + 1) / 2;
        for (int i = 0; i < size; i++) {
            float t;
            if (active == 0) {
                float sum = 0;
                for (int s = 0; s < slots; s++) sum += buffer[s * size + i];
                t = sum / n;
            } else {
                t = buffer[slot * size + i] / members;
            }
            w[i] = training ? w[i] + (t - snapshot[i]) : t;
        }
        r++;
        round[0] = (float) (r >>> 16);
        round[1] = (float) (r & 0xffff);
        return active;
    }

    @Override
    public float[][] state() {
        return new float[][] {round};
    }

    @Override
    public long bytesSent() {
        return trainers.bytesSent();
    }
}
