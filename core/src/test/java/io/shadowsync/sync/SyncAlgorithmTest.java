package io.shadowsync.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.InProcessDenseServer;
import io.shadowsync.comm.LinkModel;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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
}
