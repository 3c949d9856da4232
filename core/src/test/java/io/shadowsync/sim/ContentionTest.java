package io.shadowsync.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.Codec;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.sync.SyncSpec;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The host's cores as the simulator shares them, against closed forms: trainers on one host split its cores
 * (processor sharing), the process's CPU beyond the workers' runs beside the step and counts when cores are short,
 * servers on the trainers' host take cores from them, and the calibrated step's residual reproduces the one-trainer
 * measurement.
 */
class ContentionTest {
    private static final double S = 0.002;
    private static final int BATCH = 100;

    private static SimResult run(SimJob job, Costs costs, SimCluster cluster, int n, long seed) {
        return new ScalingSimulation(job, cluster, costs, n, seed, 400).run();
    }

    private static SimCluster oneHost(double cores) {
        return new SimCluster(LinkModel.NONE, cores, 0, true, Stragglers.NONE);
    }

    /** N equal CPU-bound trainers on C cores: each gets min(1, C/N) of a core, so the job trains min(N, C)/s steps a second. */
    @Test
    void equalTrainersOnOneHostShareItsCores() {
        SimJob job = SimFixtures.job("none", 1, 10);
        Costs costs = SimFixtures.costs(S);
        for (double cores : new double[] {1, 2, 16}) {
            for (int n : new int[] {1, 2, 4, 8}) {
                double eps = run(job, costs, oneHost(cores), n, 1).examplesPerSec();
                assertEquals(Math.min(n, cores) * BATCH / S, eps, 1e-6 * eps, n + " trainers on " + cores + " cores");
            }
        }
        // a host each: no sharing, N times one trainer
        SimCluster apart = new SimCluster(LinkModel.NONE, 2, 1, true, Stragglers.NONE);
        assertEquals(8 * BATCH / S, run(job, costs, apart, 8, 1).examplesPerSec(), 1e-3);
    }

    /**
     * The process's CPU beyond the workers' (reader, GC) runs beside the step: alone on 2 cores it costs no time; with
     * cores short every step needs all of it, so 4 trainers on 2 cores train 2 / cpu steps a second.
     */
    @Test
    void theRestOfTheProcessCountsWhenCoresAreShort() {
        SimJob job = SimFixtures.job("none", 1, 10);
        Costs costs = SimFixtures.costs(new Costs.JobStep(new Measure(S, 0), new Measure(1.5 * S, 0), new Measure(S, 0), 1, 1, LinkModel.NONE), 2);
        assertEquals(BATCH / S, run(job, costs, oneHost(2), 1, 1).examplesPerSec(), 1e-6 * BATCH / S);
        assertEquals(2 * BATCH / (1.5 * S), run(job, costs, oneHost(2), 4, 1).examplesPerSec(), 1e-6 * BATCH / S);
    }

    /**
     * The process's own CPU (the JIT, timers: f cores) is charged once per process: N trainers in one JVM on C cores
     * train min(N, C − f) / s steps a second, not (C − N·f) / s, as charging it to every trainer's steps would; over the
     * network every trainer is a process (C − N·f), the servers on the host not counted (their own CPU is in their
     * calibrated work).
     */
    @Test
    void theProcessCpuIsChargedOncePerProcess() {
        SimJob job = SimFixtures.job("none", 1, 10);
        double f = 0.5;
        Costs costs = SimFixtures.costs(new Costs.JobStep(new Measure(S, 0), new Measure(S, 0), new Measure(S, 0), new Measure(f, 0), 1, 1,
                LinkModel.NONE), 2);
        for (int n : new int[] {1, 2, 4, 8}) {
            double eps = run(job, costs, oneHost(2), n, 1).examplesPerSec();
            assertEquals(Math.min(n, 2 - f) * BATCH / S, eps, 1e-6 * eps, n + " trainers in one process on 2 cores");
        }
        Costs quarter = SimFixtures.costs(new Costs.JobStep(new Measure(S, 0), new Measure(S, 0), new Measure(S, 0), new Measure(0.25, 0), 1, 1,
                LinkModel.NONE), 2);
        SimCluster processes = new SimCluster(LinkModel.NONE, 2, 0, false, Stragglers.NONE);
        assertEquals((2 - 4 * 0.25) * BATCH / S, run(job, quarter, processes, 4, 1).examplesPerSec(), 1e-6 * BATCH / S, "4 trainer processes");
        SyncSpec none = new SyncSpec("none", 1, 0, Double.NaN, 1, false, Double.NaN, 0.05);
        SimJob withShards = new SimJob(none, 1, BATCH, 10, 1, 4, 2, Codec.FLOAT32);
        SimCluster withServers = new SimCluster(LinkModel.NONE, 2, 0, false, Stragglers.NONE, true);
        assertEquals((2 - 4 * 0.25) * BATCH / S, run(withShards, quarter, withServers, 4, 1).examplesPerSec(), 1e-6 * BATCH / S,
                "4 trainer and 2 server processes");
    }

    /** What the one-trainer run took beyond the simulated CPU is the residual; the calibrated point is reproduced exactly. */
    @Test
    void theResidualReproducesTheCalibratedStep() {
        SimJob job = SimFixtures.job("none", 1, 10);
        Costs costs = SimFixtures.costs(new Costs.JobStep(new Measure(3 * S, 0), new Measure(S, 0), new Measure(S, 0), 1, 1, LinkModel.NONE), 2);
        assertEquals(2 * S, ScalingSimulation.residual(job, costs), 1e-12);
        assertEquals(BATCH / (3 * S), run(job, costs, oneHost(2), 1, 1).examplesPerSec(), 1e-6 * BATCH / S);
        // the delay holds no core: 2 trainers on 2 cores are twice one
        assertEquals(2 * BATCH / (3 * S), run(job, costs, oneHost(2), 2, 1).examplesPerSec(), 1e-6 * BATCH / S);
        assertEquals(0, ScalingSimulation.residual(job, SimFixtures.costs(S)), 1e-12);
    }

    /**
     * Servers on the trainers' host (launch --local) take its cores: on one core, many trainers train 1 / (s + pull +
     * push) steps a second; with each shard on a host of its own the trainers' core is theirs alone (1 / s), the
     * shard bound by its own service (1 / (pull + push)).
     */
    @Test
    void serversOnTheTrainersHostTakeItsCores() {
        Measure z = SimFixtures.ZERO, g = new Measure(S / 2, 0);
        Costs costs = new Costs(Costs.JobStep.computeOnly(new Measure(S, 0)), new Measure(S, 0), 100, z, z, z, z, g, z, g, z, Map.of(), Map.of(),
                z, z, z, z, new Costs.Machine(1, "test", "test", 0, "now"));
        SyncSpec none = new SyncSpec("none", 1, 0, Double.NaN, 1, false, Double.NaN, 0.05);
        SimJob job = new SimJob(none, 1, BATCH, 10, 1, 4, 1, Codec.FLOAT32);
        SimCluster shared = new SimCluster(LinkModel.NONE, 1, 0, false, Stragglers.NONE, true);
        assertEquals(BATCH / (2 * S), run(job, costs, shared, 8, 1).examplesPerSec(), 1e-6 * BATCH / S);
        SimCluster apart = new SimCluster(LinkModel.NONE, 1, 0, false, Stragglers.NONE, false);
        assertEquals(BATCH / S, run(job, costs, apart, 8, 1).examplesPerSec(), 1e-6 * BATCH / S);
    }

    /**
     * With the launched form calibrated, trainers over the network cost the launched trainer's step and the servers
     * its measured server CPU (not the loopback calls' times): on one core shared with the servers, many trainers
     * train 1 / (launched step + server CPU) steps a second; the launched step's residual is what its one-trainer run
     * took beyond them; in process the launched costs play no part.
     */
    @Test
    void theLaunchedFormsCostsDriveTrainersOverTheNetwork() {
        Measure z = SimFixtures.ZERO, g = new Measure(S / 2, 0);
        Costs.Launched launched = new Costs.Launched(new Measure(S, 0), new Measure(S / 2, 0), new Measure(S / 2, 0), new Measure(S / 4, 0), 1);
        Costs costs = new Costs(Costs.JobStep.computeOnly(new Measure(S, 0)), new Measure(S, 0), 100, z, z, z, z, g, z, g, z, Map.of(), Map.of(),
                z, z, z, z, new Costs.Machine(1, "test", "test", 0, "now"), launched);
        SyncSpec none = new SyncSpec("none", 1, 0, Double.NaN, 1, false, Double.NaN, 0.05);
        SimJob job = new SimJob(none, 1, BATCH, 10, 1, 4, 1, Codec.FLOAT32);
        SimCluster shared = new SimCluster(LinkModel.NONE, 1, 0, false, Stragglers.NONE, true);
        assertEquals(0.25 * S, ScalingSimulation.residual(job, costs, shared), 1e-12);
        assertEquals(BATCH / S, run(job, costs, shared, 1, 1).examplesPerSec(), 1e-6 * BATCH / S, "the calibrated launch reproduced");
        assertEquals(BATCH / (0.75 * S), run(job, costs, shared, 8, 1).examplesPerSec(), 1e-6 * BATCH / S, "8 trainers on the servers' core");
        assertEquals(BATCH / S, run(job, costs, oneHost(1), 8, 1).examplesPerSec(), 1e-6 * BATCH / S, "in process: the in-process step");
    }

    /**
     * The DLRM job's step as calibrated in process over an emulated link (per step 26 table pulls and 26 pushes to 2
     * shards over 1gbit / 100us, 8.1 ms wall, 3.3 ms CPU, 3.0 ms of it the worker's, 1.6 ms a compute-only step,
     * wake-ups 63 us late): costs whose compute-only step is the given one, everything else as calibrated.
     */
    private static Costs dlrmStep(double computeOnly) {
        Costs.JobStep st = new Costs.JobStep(new Measure(0.0081, 0), new Measure(0.0033, 0), new Measure(0.0030, 0), new Measure(0, 0), 1, 2,
                LinkModel.parse("1gbit", "100us"));
        Measure z = SimFixtures.ZERO;
        return new Costs(st, new Measure(computeOnly, 0), 487, z, z, z, z, z, z, z, z, Map.of(), Map.of(), new Measure(1.4e-8, 0),
                new Measure(2.7e-9, 0), new Measure(2.1e-9, 0), new Measure(63e-6, 0), new Costs.Machine(2, "test", "test", 0, "now"), null);
    }

    /**
     * In process over an emulated link the step's worker CPU beyond the compute-only step's (the table calls' parking
     * and waking, the shards' fan-out) is spent in the table calls, between their waits, not in the pass: one
     * trainer's step is still the calibrated one; many trainers on two cores are bound by the step's whole CPU, charged
     * once (not left out, not twice); and behind a barrier (fr-ma K = 1) one trainer's calls use the cores while the
     * others wait, where with all of the CPU in the pass the trainers all wait with the cores idle.
     */
    @Test
    void theTableCallsCpuIsSpentBetweenTheirWaits() {
        SyncSpec none = new SyncSpec("none", 1, 0, Double.NaN, 1, false, Double.NaN, 0.05);
        SyncSpec frma = new SyncSpec("fr-ma", 1, 0, Double.NaN, 1, false, Double.NaN, 0.05);
        SimJob free = new SimJob(none, 1, 128, 25_553, 26, 16, 2, Codec.FLOAT32), barrier = new SimJob(frma, 1, 128, 25_553, 26, 16, 2, Codec.FLOAT32);
        SimCluster host = new SimCluster(LinkModel.parse("1gbit", "100us"), 2, 0, true, Stragglers.parse("lognormal:0.25"));
        Costs split = dlrmStep(0.0016), inPass = dlrmStep(0.0030); // the calls' CPU: 1.4 ms a step, or none apart from the pass
        double calibrated = 128 / 0.0081, cpuBound = 2 * 128 / 0.0033;
        SimCluster alone = new SimCluster(LinkModel.parse("1gbit", "100us"), 2, 0, true, Stragglers.NONE);
        assertEquals(calibrated, run(free, split, alone, 1, 1).examplesPerSec(), 1e-6 * calibrated, "one trainer: the calibrated step");
        assertEquals(calibrated, run(free, inPass, alone, 1, 1).examplesPerSec(), 1e-6 * calibrated);
        double many = run(free, split, host, 32, 1).examplesPerSec();
        assertTrue(many <= cpuBound * 1.001 && many >= 0.9 * cpuBound, "32 trainers on 2 cores: the step's CPU bounds them, " + many + " of " + cpuBound);
        double overlapped = run(barrier, split, host, 8, 1).examplesPerSec(), idle = run(barrier, inPass, host, 8, 1).examplesPerSec();
        assertTrue(overlapped >= 1.05 * idle, "behind a barrier the calls' CPU fills the others' waits: " + overlapped + " against " + idle);
        assertTrue(overlapped <= cpuBound, overlapped + " within the CPU bound " + cpuBound);
    }

    /** A run is a function of its seed: the same seed gives the same figures, another seed other stragglers. */
    @Test
    void deterministicForASeed() {
        SimJob job = SimFixtures.job("s-ma", 1, 1000);
        Costs costs = SimFixtures.costs(new Costs.JobStep(new Measure(S, 0), new Measure(1.3 * S, 0), new Measure(S, 0), 1, 1, LinkModel.NONE), 2);
        SimCluster c = new SimCluster(LinkModel.parse("1gbit", "100us"), 2, 0, true, Stragglers.parse("lognormal:0.3"));
        SimResult a = run(job, costs, c, 4, 7), b = run(job, costs, c, 4, 7), other = run(job, costs, c, 4, 8);
        assertEquals(a, b);
        assertNotEquals(a.examplesPerSec(), other.examplesPerSec());
        assertTrue(a.examplesPerSec() <= 2 * BATCH / (1.3 * S) * 1.05, "2 cores bound the job: " + a.examplesPerSec());
    }
}
