package io.shadowsync.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.sync.AlgorithmDescriptor;
import io.shadowsync.sync.SyncAlgorithms;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Each cost the simulation produces step by step, against its closed form. */
class CostModelsTest {
    @Test
    void closedFormsAtKnownPoints() {
        // 4 ranks, 1 MB at 1 MB/s, 1 ms: 2·3/4 s + 6 ms
        assertEquals(1.5 + 0.006, CostModels.ringAllReduce(4, 1e6, 1e6, 1e-3), 1e-12);
        assertEquals(0, CostModels.ringAllReduce(1, 1e6, 1e6, 1e-3), 0);
        assertEquals(0.5 * 1 / (2 * 0.5), CostModels.md1MeanWait(0.5, 1), 1e-12);
        assertEquals(0.5 / 0.5, CostModels.mm1MeanWait(0.5, 1), 1e-12);
        assertEquals(1 + 0.5 + 1.0 / 3, CostModels.harmonic(3), 1e-12);
    }

    /**
     * The ring as the simulation runs it hop by hop (synchronous SGD: a step, then the gradients' allreduce over N
     * ranks on links of their own) takes 2(n−1)/n·S/B + 2(n−1)·latency. Catches a ring of n−1 or 2n steps, chunks of
     * S instead of S/n, latency paid once per allreduce instead of per step, or links shared by all ranks.
     */
    @Test
    void ringAllReduceMatchesItsClosedForm() {
        double step = 2e-3, bw = 1.25e8, lat = 50e-6;
        int dense = 64 * 1024; // divisible by every n below
        for (int n : new int[] {1, 2, 4, 8, 16, 64}) {
            SimCluster c = new SimCluster(new LinkModel(bw, lat), 1, 1, false, Stragglers.NONE);
            SimResult r = new ScalingSimulation(SimFixtures.job("sync-sgd", 1, dense), c, SimFixtures.costs(step), n, 1, 50).run();
            double expected = n * 100 / (step + CostModels.ringAllReduce(n, 4.0 * dense, bw, lat));
            assertEquals(expected, r.examplesPerSec(), expected * 1e-9, "n = " + n);
        }
    }

    /**
     * The ring as {@code RingCollective}'s ranks run it: a rank sends its part as it enters and goes on as soon as its
     * own predecessor's part has arrived, waiting for no other hop. With every rank but L entering at 0 and L at T
     * (hops of one latency λ), rank x is through at T + λ·(j + m) for j = (x − L) mod m ≤ m − 2, and rank L − 1 at
     * T + λ·(m − 1); with all entering at once, every rank at 2(m − 1)·λ. Catches a ring stepped in global lockstep or
     * started only when all have entered (every rank at T + 2(m − 1)·λ), a rank that waits for its own part's delivery,
     * or one step too many or too few.
     */
    @Test
    void aRingRankGoesOnWhenItsPredecessorsPartArrives() {
        double lat = 1e-4, late = 1.0;
        for (int m : new int[] {2, 3, 4, 8}) {
            for (int l : new int[] {-1, 0, m - 1}) {
                SimCluster c = new SimCluster(new LinkModel(Double.POSITIVE_INFINITY, lat), 1, 1, false, Stragglers.NONE);
                ScalingSimulation sim = new ScalingSimulation(SimFixtures.job("sync-sgd", 1, 1000), c, SimFixtures.costs(1e-3), m, 1, 50);
                FifoLink[] links = new FifoLink[m];
                int[] hostOf = new int[m];
                for (int r = 0; r < m; r++) {
                    links[r] = new FifoLink(Double.POSITIVE_INFINITY, lat);
                    hostOf[r] = r;
                }
                java.util.Map<Long, Rounds.Ring> rings = new java.util.HashMap<>();
                double[] end = new double[m];
                for (int r = 0; r < m; r++) {
                    int rank = r;
                    sim.q.at(r == l ? late : 0, () -> sim.rounds.ringEnter(rings, 0, links, hostOf, null, rank, () -> end[rank] = sim.q.now()));
                }
                sim.q.runUntil(2 * late);
                for (int x = 0; x < m; x++) {
                    int j = Math.floorMod(x - l, m);
                    double expected = l < 0 ? 2 * (m - 1) * lat : late + lat * (j <= m - 2 ? j + m : m - 1);
                    assertEquals(expected, end[x], 1e-12, m + " ranks, rank " + l + " late: rank " + x);
                }
                assertTrue(rings.isEmpty(), "a ring whose ranks are all through is dropped");
            }
        }
    }

    /**
     * A FIFO link fed by Poisson arrivals: fixed service gives M/D/1's mean wait ρs/(2(1−ρ)), exponential service
     * M/M/1's ρs/(1−ρ), and the utilisation ρ. Catches a link that serves in parallel (no wait), that forgets its
     * busy-until time, or counts latency as occupying it.
     */
    @Test
    void aSharedShardQueuesAsMd1AndMm1() {
        double service = 1e-3;
        for (double rho : new double[] {0.3, 0.6, 0.8}) {
            double lambda = rho / service;
            assertEquals(CostModels.md1MeanWait(lambda, service), meanWait(lambda, service, false, 1), CostModels.md1MeanWait(lambda, service) * 0.05, "M/D/1 ρ=" + rho);
            assertEquals(CostModels.mm1MeanWait(lambda, service), meanWait(lambda, service, true, 2), CostModels.mm1MeanWait(lambda, service) * 0.06, "M/M/1 ρ=" + rho);
        }
    }

    private static double meanWait(double lambda, double service, boolean exponential, long seed) {
        FifoLink shard = new FifoLink(1, 5e-3); // bytes/s = 1: a message of b bytes takes b s; latency must not queue
        SplittableRandom r = new SplittableRandom(seed);
        double t = 0, wait = 0;
        int n = 400_000;
        shard.measureFrom(0);
        for (int i = 0; i < n; i++) {
            t += -Math.log(1 - r.nextDouble()) / lambda;
            double s = exponential ? -Math.log(1 - r.nextDouble()) * service : service;
            double done = shard.serve(t, s);
            wait += done - s - t;
        }
        assertEquals(lambda * service, shard.utilisation(t), 0.02, "utilisation");
        return wait / n;
    }

    /**
     * A foreground round every step waits for the slowest of N trainers: with steps of s·(1 + Exp(mean F)) and free
     * rounds, a round comes every s·(1 + F·H_N), so N trainers make N·B/(s(1 + F·H_N)) examples/s. Catches a barrier
     * that waits for the mean trainer, or for the first, or one straggler draw shared by all trainers.
     */
    @Test
    void foregroundBarrierWaitsForTheSlowestOfN() {
        double step = 1e-3, f = 0.5;
        for (int n : new int[] {1, 2, 8, 32}) {
            SimCluster c = new SimCluster(LinkModel.NONE, 1, 1, false, Stragglers.parse("exp:" + f));
            SimResult r = new ScalingSimulation(SimFixtures.job("fr-ma", 1, 1000), c, SimFixtures.costs(step), n, 3, 20_000).run();
            double expected = n * 100 / (step * (1 + CostModels.expectedMaxExponential(n, f)));
            assertEquals(expected, r.examplesPerSec(), expected * 0.03, "n = " + n);
            if (n > 1) assertTrue(r.syncWait() > 0.05, "the faster trainers wait: " + r.syncWait());
        }
    }

    /** Processor sharing: k tasks of w core-seconds on c cores end together at max(w, k·w/c). */
    @Test
    void coresAreShared() {
        for (int k : new int[] {1, 2, 3, 8}) {
            EventQueue q = new EventQueue();
            CpuPool cpu = new CpuPool(q, 2);
            double[] end = new double[k];
            for (int i = 0; i < k; i++) {
                int j = i;
                cpu.run(1.0, () -> end[j] = q.now());
            }
            q.runUntil(100);
            for (double e : end) assertEquals(Math.max(1, k / 2.0), e, 1e-9, k + " tasks");
        }
        EventQueue q = new EventQueue();
        CpuPool cpu = new CpuPool(q, 1);
        double[] end = new double[2];
        cpu.run(1.0, () -> end[0] = q.now());
        q.at(0.5, () -> cpu.run(0.25, () -> end[1] = q.now())); // joins halfway: both at half speed
        q.runUntil(100);
        assertEquals(1.0, end[1], 1e-9);
        assertEquals(1.25, end[0], 1e-9);
    }

    /** The descriptor properties the simulator asks: a pairwise algorithm is a collective one, shadow and foreground exclude each other. */
    @Test
    void descriptorsSayWhatTheSimulatorNeeds() {
        int pairwise = 0;
        for (AlgorithmDescriptor d : SyncAlgorithms.all()) {
            if (d.pairwise()) {
                pairwise++;
                assertTrue(d.trainerGroup(), d.name());
            }
            assertTrue(!(d.background() && d.foreground()), d.name());
            if (d.rounds() != null) assertTrue(d.background() || d.foreground(), d.name());
            if (d.centerOnServer()) assertTrue(d.denseServer() && !d.trainerGroup(), d.name());
        }
        assertEquals(2, pairwise, "gossip's shadow and foreground forms");
    }
}
