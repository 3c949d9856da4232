package io.shadowsync.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.DenseParameterServer;
import io.shadowsync.comm.ForwardingCollective;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.InProcessDenseServer;
import io.shadowsync.comm.LinkModel;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SyncAlgorithmTest {
    /** Replica r starts at values drawn from seed r. */
    static float[][] replicas(int n, int size) {
        float[][] w = new float[n][size];
        for (int r = 0; r < n; r++) {
            SplittableRandom rnd = new SplittableRandom(r + 1);
            for (int i = 0; i < size; i++) w[r][i] = (float) rnd.nextGaussian();
        }
        return w;
    }

    /** Runs one round of algorithm[r] on replica r on N threads at once; returns the active counts. */
    static int[] roundAll(SyncAlgorithm[] algs, float[][] w, boolean training) throws Exception {
        int n = algs.length;
        int[] active = new int[n];
        Thread[] ts = new Thread[n];
        Exception[] fail = new Exception[n];
        for (int r = 0; r < n; r++) {
            int rr = r;
            ts[r] = new Thread(() -> {
                try {
                    active[rr] = algs[rr].round(w[rr], training);
                } catch (Exception e) {
                    fail[rr] = e;
                }
            });
            ts[r].start();
        }
        for (Thread t : ts) t.join();
        for (Exception e : fail) if (e != null) throw e;
        return active;
    }

    static SyncAlgorithm[] each(int n, IntFunction<SyncAlgorithm> make) {
        SyncAlgorithm[] a = new SyncAlgorithm[n];
        for (int r = 0; r < n; r++) a[r] = make.apply(r);
        return a;
    }

    @Test
    void modelAveragingWithOneTrainerIsTheIdentity() throws Exception {
        float[][] w = replicas(1, 1001);
        float[] before = w[0].clone();
        Collective[] c = InProcessCollectives.create(1, LinkModel.NONE);
        SyncAlgorithm ma = new ModelAveraging(c[0], 1001);
        assertEquals(0, ma.round(w[0], false));
        assertArrayEquals(before, w[0]);
        assertEquals(1, ma.round(w[0], true));
        assertArrayEquals(before, w[0]);
    }

    @Test
    void modelAveragingGivesEveryTrainerTheMean() throws Exception {
        int n = 4, size = 777;
        float[][] w = replicas(n, size);
        double[] mean = new double[size];
        for (float[] r : w) for (int i = 0; i < size; i++) mean[i] += r[i] / (double) n;
        Collective[] c = InProcessCollectives.create(n, LinkModel.NONE);
        int[] active = roundAll(each(n, r -> new ModelAveraging(c[r], size)), w, true);
        for (int r = 0; r < n; r++) {
            assertEquals(n, active[r]);
            for (int i = 0; i < size; i++) assertEquals(mean[i], w[r][i], 1e-5, "replica " + r + " element " + i);
        }
    }

    @Test
    void flagsCountTheTrainersStillTraining() throws Exception {
        Collective[] c = InProcessCollectives.create(3, LinkModel.NONE);
        SyncAlgorithm[] ma = each(3, r -> new ModelAveraging(c[r], 5));
        float[][] w = replicas(3, 5);
        int[] active = new int[3];
        Thread[] ts = new Thread[3];
        for (int r = 0; r < 3; r++) {
            int rr = r;
            ts[r] = new Thread(() -> {
                try {
                    active[rr] = ma[rr].round(w[rr], rr == 1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            ts[r].start();
        }
        for (Thread t : ts) t.join();
        assertArrayEquals(new int[] {1, 1, 1}, active);
    }

    /** A lossy codec that shifts every value by a quarter: it would make a flag sum that rode with it no count. */
    static final io.shadowsync.comm.Codec SHIFT = new io.shadowsync.comm.Codec() {
        public String name() { return "shift"; }
        public boolean lossless() { return false; }
        public int bytesPerValue() { return 4; }
        public void encode(float[] src, int off, int len, java.nio.ByteBuffer dst) {
            for (int i = 0; i < len; i++) dst.putFloat(src[off + i] + 0.25f);
        }
        public void decode(java.nio.ByteBuffer src, float[] dst, int off, int len) {
            for (int i = 0; i < len; i++) dst[off + i] = src.getFloat();
        }
    };

    /** Under a lossy codec a round's flags take the typed channel: the counts stay exact while the values are rounded. */
    @Test
    void flagsNeverGoThroughALossyCodec() throws Exception {
        int n = 3, size = 50;
        Collective[] c = new InProcessCollectives(n, LinkModel.NONE, java.time.Duration.ofMinutes(1), 7, SHIFT).ranks();
        float[][] w = replicas(n, size);
        SyncAlgorithm[] ma = each(n, r -> new ModelAveraging(c[r], size));
        assertArrayEquals(new int[] {n, n, n}, roundAll(ma, w, true));
        assertArrayEquals(new int[] {0, 0, 0}, roundAll(ma, w, false));
        assertTrue(w[0][0] != replicas(n, size)[0][0], "the codec did touch the parameters");
    }

    @Test
    void aFlagSumThatIsNoCountIsRefused() {
        float[] sum = {0.5f, 3f, -1f, 1 << 24};
        assertEquals(3, Rounds.count(sum, 1));
        for (int at : new int[] {0, 2, 3}) assertThrows(IllegalStateException.class, () -> Rounds.count(sum, at), "value " + at);
    }

    @Test
    void bmufWithoutMomentumAndUnitBlockRateEqualsModelAveraging() throws Exception {
        int n = 3, size = 501;
        float[][] a = replicas(n, size), b = replicas(n, size);
        float[] initial = new float[size];
        Collective[] c1 = InProcessCollectives.create(n, LinkModel.NONE), c2 = InProcessCollectives.create(n, LinkModel.NONE);
        SyncAlgorithm[] ma = each(n, r -> new ModelAveraging(c1[r], size));
        SyncAlgorithm[] bmuf = each(n, r -> new BlockMomentum(c2[r], initial, 0.0, 1.0, false));
        for (int round = 0; round < 3; round++) {
            roundAll(ma, a, true);
            roundAll(bmuf, b, true);
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < size; i++) {
                    a[r][i] += 0.01f * (r + 1); // some "training" between rounds, the same on both sides
                    b[r][i] += 0.01f * (r + 1);
                }
            }
        }
        for (int r = 0; r < n; r++) for (int i = 0; i < size; i++) assertEquals(a[r][i], b[r][i], 1e-5);
    }

    @Test
    void bmufMomentumCarriesTheGlobalUpdateForward() throws Exception {
        // one trainer, μ = 0.5: after a step of +1 from 0, the next round with no change still moves by μ·Δ = 0.5
        Collective[] c = InProcessCollectives.create(1, LinkModel.NONE);
        BlockMomentum bmuf = new BlockMomentum(c[0], new float[] {0f}, 0.5, 1.0, false);
        float[] w = {1f};
        bmuf.round(w, true);
        assertEquals(1f, w[0], 1e-6);
        bmuf.round(w, true);
        assertEquals(1.5f, w[0], 1e-6);
        assertEquals(1.5f, bmuf.global()[0], 1e-6);
        assertThrows(IllegalArgumentException.class, () -> new BlockMomentum(c[0], new float[1], 1.0, 1.0, false));
    }

    @Test
    void easgdCenterConvergesTowardTheReplicas() throws Exception {
        int n = 3, size = 64;
        float[][] w = replicas(n, size);
        double[] mean = new double[size];
        for (float[] r : w) for (int i = 0; i < size; i++) mean[i] += r[i] / (double) n;
        InProcessDenseServer server = new InProcessDenseServer(new float[size], 2, LinkModel.NONE);
        SyncAlgorithm[] easgd = each(n, r -> new ElasticAveraging(server, size, 0.3));
        for (int round = 0; round < 60; round++) {
            int[] active = roundAll(easgd, w, true);
            assertEquals(-1, active[0]);
        }
        float[] center = new float[size];
        server.pull(center);
        for (int i = 0; i < size; i++) {
            // elastic rounds conserve Σ w + c (each pushes d into c and takes d from its replica)
            assertEquals(mean[i] * n / (n + 1), center[i], 1e-3, "center element " + i);
            for (int r = 0; r < n; r++) assertEquals(center[i], w[r][i], 1e-3, "replica " + r + " reached the center");
        }
        assertTrue(easgd[0].bytesSent() > 0);
    }

    // --- BMUF's start point, Nesterov (issue 10) ---

    /** Largest |x[i]| (for the block momentum's size). */
    static double maxAbs(float[] x) {
        double m = 0;
        for (float v : x) m = Math.max(m, Math.abs(v));
        return m;
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void bmufOnIdleReplicasConvergesAndItsMomentumDecays(boolean nesterov) throws Exception {
        // one round with progress, then rounds in which no trainer makes any: the block momentum must die out as μ^k
        // (measuring the block from g while the trainers start at the look-ahead g + μΔ makes it grow as μ(1 + ζ):
        // 1.5 per round here, so Δ reaches about 1e3 times its size after these 17 rounds)
        int n = 4, size = 300;
        double mu = 0.75;
        float[][] w = replicas(n, size);
        float[] initial = new float[size];
        Collective[] c = InProcessCollectives.create(n, LinkModel.NONE);
        BlockMomentum[] bmuf = new BlockMomentum[n];
        for (int r = 0; r < n; r++) bmuf[r] = new BlockMomentum(c[r], initial, mu, 1.0, nesterov);
        roundAll(bmuf, w, true);
        double first = maxAbs(bmuf[0].momentumState());
        assertTrue(first > 0.1, "the first round moved the global model: " + first);
        int idle = 17;
        for (int k = 0; k < idle; k++) roundAll(bmuf, w, true);
        double last = maxAbs(bmuf[0].momentumState());
        assertTrue(last <= first * Math.pow(mu, idle) * 1.01 + 1e-6, "Δ decays as μ^k: " + first + " → " + last);
        roundAll(bmuf, w, false);
        for (int r = 1; r < n; r++) assertArrayEquals(w[0], w[r], "replica " + r + " agrees with replica 0");
        for (int i = 0; i < size; i++) assertTrue(Float.isFinite(w[0][i]), "element " + i + " is finite: " + w[0][i]);
    }

    @Test
    void bmufNesterovOnAQuadraticConverges() throws Exception {
        // trainer r minimizes ½ Σ c_i (w_i − m_r,i)² with K plain gradient steps between rounds: the consensus optimum
        // is the mean of the m_r. Each block shrinks the distance to m_r by ρ = (1 − ηc)^K ∈ [0.81, 0.95]; measuring
        // the block from g rather than the look-ahead the trainers started at gives a growth of det = μ(1 + ρ) > 1
        // per round, and BMUF diverges
        int n = 4, size = 50, steps = 2, rounds = 300;
        double mu = BlockMomentum.defaultMomentum(n);
        float eta = 0.05f;
        float[][] w = new float[n][size], m = replicas(n, size);
        float[] curvature = new float[size];
        double[] optimum = new double[size];
        for (int i = 0; i < size; i++) {
            curvature[i] = 0.5f + 1.5f * i / (size - 1);
            for (int r = 0; r < n; r++) optimum[i] += m[r][i] / (double) n;
        }
        Collective[] c = InProcessCollectives.create(n, LinkModel.NONE);
        SyncAlgorithm[] bmuf = each(n, r -> new BlockMomentum(c[r], new float[size], mu, 1.0, true));
        for (int round = 0; round < rounds; round++) {
            for (int r = 0; r < n; r++) {
                for (int k = 0; k < steps; k++) {
                    for (int i = 0; i < size; i++) w[r][i] -= eta * curvature[i] * (w[r][i] - m[r][i]);
                }
            }
            roundAll(bmuf, w, round < rounds - 1);
        }
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < size; i++) assertEquals(optimum[i], w[r][i], 1e-3, "replica " + r + " element " + i + " at the optimum");
            assertArrayEquals(w[0], w[r], "replica " + r + " agrees with replica 0 to the bit");
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void bmufGoesOnFromItsSavedStateAsIfNeverStopped(boolean nesterov) throws Exception {
        // a checkpoint keeps g and Δ (Job.restore copies them into the live arrays; a newcomer to an elastic group is
        // sent the same two): the start point p must follow from them, or a resumed run measures its first block wrong
        int n = 3, size = 200;
        float[] initial = new float[size];
        float[][] a = replicas(n, size);
        Collective[] c1 = InProcessCollectives.create(n, LinkModel.NONE), c2 = InProcessCollectives.create(n, LinkModel.NONE);
        BlockMomentum[] run = new BlockMomentum[n], resumed = new BlockMomentum[n];
        for (int r = 0; r < n; r++) run[r] = new BlockMomentum(c1[r], initial, 0.75, 1.0, nesterov);
        for (int round = 0; round < 4; round++) {
            roundAll(run, a, true);
            train(a, round);
        }
        float[][] b = new float[n][];
        for (int r = 0; r < n; r++) {
            b[r] = a[r].clone();
            resumed[r] = new BlockMomentum(c2[r], initial, 0.75, 1.0, nesterov);
            System.arraycopy(run[r].global(), 0, resumed[r].global(), 0, size);
            System.arraycopy(run[r].momentumState(), 0, resumed[r].momentumState(), 0, size);
        }
        for (int round = 4; round < 8; round++) {
            roundAll(run, a, true);
            roundAll(resumed, b, true);
            train(a, round);
            train(b, round);
        }
        for (int r = 0; r < n; r++) assertArrayEquals(a[r], b[r], "replica " + r + " after resuming from g and Δ");
    }

    /** Some "training" between rounds: each replica moves its own seeded way. */
    static void train(float[][] w, int round) {
        for (int r = 0; r < w.length; r++) {
            SplittableRandom rnd = new SplittableRandom(1000 + 10 * round + r);
            for (int i = 0; i < w[r].length; i++) w[r][i] += (float) (0.1 * rnd.nextGaussian());
        }
    }

    // --- the last round: every replica ends on the same bits ---

    @ParameterizedTest
    @ValueSource(strings = {"ma", "bmuf", "bmuf-nesterov", "gossip"})
    void theLastRoundLeavesEveryReplicaOnTheSameBits(String algorithm) throws Exception {
        // w += t − s differs from t by an ulp for some elements, and not in the same way on every replica
        int n = 3, size = 4096;
        float[][] w = replicas(n, size);
        Collective[] c = InProcessCollectives.create(n, LinkModel.NONE);
        float[] initial = new float[size];
        SyncAlgorithm[] algs = each(n, r -> switch (algorithm) {
            case "ma" -> new ModelAveraging(c[r], size);
            case "bmuf" -> new BlockMomentum(c[r], initial, 0.5, 1.0, false);
            case "gossip" -> new Gossip(c[r], size, GossipSchedule.RANDOM, 0);
            default -> new BlockMomentum(c[r], initial, 0.5, 1.0, true);
        });
        for (int round = 0; round < 3; round++) {
            roundAll(algs, w, true);
            for (int r = 0; r < n; r++) {
                SplittableRandom rnd = new SplittableRandom(100 + 10 * round + r);
                for (int i = 0; i < size; i++) w[r][i] += (float) (0.1 * rnd.nextGaussian()); // each trains its own way
            }
        }
        int[] active = roundAll(algs, w, false);
        assertEquals(0, active[0], "the last round");
        for (int r = 1; r < n; r++) assertArrayEquals(w[0], w[r], "replica " + r + " is replica 0, bit for bit");
    }

    // --- a worker's change made while the round runs is kept ---

    /** A collective that, while an allreduce or an exchange is in flight, adds change to w as this trainer's workers would. */
    static final class MeddlingCollective extends ForwardingCollective {
        final float[] w, change;

        MeddlingCollective(Collective inner, float[] w, float[] change) {
            super(inner);
            this.w = w;
            this.change = change;
        }

        @Override
        public void allReduce(float[] data, int off, int len, ReduceOp op) throws InterruptedException {
            for (int i = 0; i < change.length; i++) w[i] += change[i]; // after the snapshot, before the write-back
            inner.allReduce(data, off, len, op);
        }

        @Override
        public void exchange(int peer, float[] send, int sOff, float[] recv, int rOff, int len) throws InterruptedException {
            for (int i = 0; i < change.length; i++) w[i] += change[i];
            inner.exchange(peer, send, sOff, recv, rOff, len);
        }
    }

    /** A dense server that, while a pull is in flight, adds change to w as this trainer's workers would. */
    record MeddlingServer(DenseParameterServer inner, float[] w, float[] change) implements DenseParameterServer {
        @Override
        public int size() {
            return inner.size();
        }

        @Override
        public void pull(float[] dst) throws InterruptedException {
            for (int i = 0; i < change.length; i++) w[i] += change[i];
            inner.pull(dst);
        }

        @Override
        public void pushDelta(float[] delta) throws InterruptedException {
            inner.pushDelta(delta);
        }

        @Override
        public void pushGradient(float[] grad) throws InterruptedException {
            inner.pushGradient(grad);
        }

        @Override
        public long bytes() {
            return inner.bytes();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ma", "bmuf", "bmuf-nesterov", "easgd", "gossip"})
    void aChangeTheWorkersMakeDuringARoundIsKept(String algorithm) throws Exception {
        // the same rounds twice, once with workers that change w while each round runs: the replicas must differ by
        // exactly those changes (w += t − s); a round that writes w = t would erase them
        int n = 3, size = 257;
        float[][] plain = replicas(n, size), meddled = replicas(n, size), change = new float[n][size];
        for (int r = 0; r < n; r++) {
            SplittableRandom rnd = new SplittableRandom(50 + r);
            for (int i = 0; i < size; i++) change[r][i] = (float) (0.25 * rnd.nextGaussian());
        }
        float[] initial = new float[size];
        Collective[] c1 = InProcessCollectives.create(n, LinkModel.NONE), c2 = InProcessCollectives.create(n, LinkModel.NONE);
        InProcessDenseServer s1 = new InProcessDenseServer(initial, 2, LinkModel.NONE), s2 = new InProcessDenseServer(initial, 2, LinkModel.NONE);
        IntFunction<SyncAlgorithm> plainAlg = r -> make(algorithm, c1[r], s1, initial);
        IntFunction<SyncAlgorithm> meddledAlg = r -> make(algorithm, new MeddlingCollective(c2[r], meddled[r], change[r]),
                new MeddlingServer(s2, meddled[r], change[r]), initial);
        SyncAlgorithm[] a = each(n, plainAlg), b = each(n, meddledAlg);
        for (int round = 1; round <= 3; round++) {
            if (algorithm.equals("easgd")) {
                for (int r = 0; r < n; r++) { // no collective: one trainer at a time, in the same order on both sides
                    a[r].round(plain[r], true);
                    b[r].round(meddled[r], true);
                }
            } else {
                roundAll(a, plain, true);
                roundAll(b, meddled, true);
            }
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < size; i++) {
                    assertEquals(plain[r][i] + change[r][i], meddled[r][i], 1e-4,
                            algorithm + " round " + round + " replica " + r + " element " + i + " keeps the workers' change");
                }
            }
            // the changes are part of the replicas from now on (the next round averages them in): both sides start it alike
            for (int r = 0; r < n; r++) for (int i = 0; i < size; i++) plain[r][i] += change[r][i];
        }
    }

    static SyncAlgorithm make(String algorithm, Collective c, DenseParameterServer server, float[] initial) {
        return switch (algorithm) {
            case "ma" -> new ModelAveraging(c, initial.length);
            case "bmuf" -> new BlockMomentum(c, initial, 0.5, 1.0, false);
            case "bmuf-nesterov" -> new BlockMomentum(c, initial, 0.5, 1.0, true);
            case "easgd" -> new ElasticAveraging(server, initial.length, 0.3);
            case "gossip" -> new Gossip(c, initial.length, GossipSchedule.RANDOM, 0);
            default -> throw new IllegalArgumentException(algorithm);
        };
    }
}
