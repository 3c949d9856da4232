package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.data.SyntheticCtr;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.metrics.Metrics;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.SyncAlgorithms;
import io.shadowsync.sync.SyncSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every sync algorithm trains the synthetic CTR task with N = 1, 2, 4 trainers to an eval logloss close to the
 * single trainer's at the same total examples (2 epochs of 48,000 rows over 100 ids per field, DLRM with small
 * tables). The margin is 0.025 in logloss — a quarter of what the model gains over the constant predictor here
 * (0.605 → 0.513; the teacher reaches 0.40) — except for {@code none} with several trainers, whose final replica
 * saw only 1/N of the data (measured +0.03 to +0.04 at N = 4): 0.06; and shadow EASGD at N = 4, whose elastic force
 * α = 0.5/N couples the replicas loosely (measured +0.019 to +0.028 on a loaded 2-core machine): 0.035. That sync
 * beats no sync at all is {@link SyncBeatsNoneTest}'s business, on a task independent trainers cannot learn.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JobTest {
    static final double MARGIN = 0.025;
    static final double MARGIN_INDEPENDENT = 0.06;
    static final double MARGIN_LOOSE = 0.035;

    @TempDir
    static Path dir;
    static InMemorySource train, eval;
    static double single;

    static final DlrmSpec SPEC = new DlrmSpec(13, 26, 100, 8, new int[] {16}, new int[] {16});

    @BeforeAll
    static void data() throws Exception {
        new SyntheticCtr(new SyntheticCtr.Config(48_000, 8_000, 5, 100)).generate(dir);
        train = InMemorySource.load(new CriteoTsvSource(dir.resolve("train.tsv"), false));
        eval = InMemorySource.load(new CriteoTsvSource(dir.resolve("eval.tsv"), false));
        single = run("none", 1, 1).metrics().logloss();
    }

    /** @param replicas every trainer's final dense replica */
    record Outcome(JobResult result, Metrics metrics, float[][] replicas) {}

    /** Foreground rounds every 5 steps: each trainer takes ~140 steps here, and BMUF's block momentum needs rounds. */
    static Outcome run(String algorithm, int trainers, int workers) throws Exception {
        return run(new SyncSpec(algorithm, 5, 0, Double.NaN, 1.0, false, Double.NaN), trainers, workers, LinkModel.NONE, 1);
    }

    static Outcome run(SyncSpec sync, int trainers, int workers, LinkModel link, int shards) throws Exception {
        TrainerConfig tc = new TrainerConfig(workers, 64, 0, 2, DataSplit.ROUND_ROBIN, 7, 4, 10_000, false);
        // synchronous SGD averages N·W gradients per step, so it takes N·W times fewer steps; the square-root
        // scaling rule (Krizhevsky 2014) raises its learning rate by √(N·W) for the same total examples (the linear
        // rule, N·W, is unstable here at N = 4)
        // asynchronous SGD applies N·W gradients, each computed on parameters up to N·W − 1 updates old; on 2 cores a
        // descheduled worker's gradient can be far staler still, and at the single trainer's rate 4 trainers diverged
        // in about one run in four (0.575 against 0.513). Staleness-aware SGD (Zhang et al. 2016) divides the rate by
        // the staleness; the square root of N·W is the milder form of that rule used here
        double lr = sync.mode() == SyncSpec.Mode.SYNC_SGD ? 0.3 * Math.sqrt(trainers * workers)
                : sync.mode() == SyncSpec.Mode.ASYNC_PS ? 0.3 / Math.sqrt(trainers * workers) : 0.3;
        Job job = new Job(SPEC, 11, OptimizerSpec.of("sgd", lr), new EmbeddingOptimizerSpec("sgd", 0.3), train,
                new JobConfig(trainers, tc, sync, shards, link));
        JobResult r = job.run();
        Metrics m = Evaluator.evaluate(job.model(), job.tables(), eval, 1024).metrics();
        float[][] replicas = new float[trainers][];
        for (int i = 0; i < trainers; i++) replicas[i] = job.replica(i).clone();
        return new Outcome(r, m, replicas);
    }

    /** Every registered algorithm: a new one is trained here the day it is registered. */
    static List<String> algorithms() {
        return SyncAlgorithms.names();
    }

    @ParameterizedTest
    @MethodSource("algorithms")
    void everyAlgorithmTrainsCloseToASingleTrainer(String algorithm) throws Exception {
        for (int n : new int[] {1, 2, 4}) {
            Outcome o = run(algorithm, n, 1);
            assertEquals(2L * 48_000, o.result().examples(), algorithm + " N=" + n + " trains on every example of its share");
            double ll = o.metrics().logloss();
            double margin = algorithm.equals(SyncAlgorithms.NONE) && n > 1 ? MARGIN_INDEPENDENT
                    : algorithm.equals("s-easgd") && n > 2 ? MARGIN_LOOSE : MARGIN;
            assertTrue(ll < single + margin, algorithm + " N=" + n + ": eval logloss " + ll + " vs single trainer " + single);
            assertTrue(Double.isFinite(ll));
            // collective rounds end on the same bits everywhere (the SyncAlgorithm contract; README's promise for MA and BMUF)
            if (SyncAlgorithms.get(algorithm).trainerGroup()) assertReplicasIdentical(o, algorithm + " N=" + n);
        }
    }

    /** After the last round every trainer's replica holds the same bits (collective algorithms: MA, BMUF). */
    static void assertReplicasIdentical(Outcome o, String what) {
        for (int r = 1; r < o.replicas().length; r++) assertArrayEquals(o.replicas()[0], o.replicas()[r], what + ": replica " + r + " is replica 0, bit for bit");
    }

    @ParameterizedTest
    @ValueSource(strings = {"s-bmuf", "fr-bmuf"})
    void bmufWithNesterovMomentumTrainsAsWellAsWithout(String algorithm) throws Exception {
        // 4 trainers (μ = 0.5 in shadow mode, 0.75 in the foreground): measuring each block from g while the trainers
        // started it at the look-ahead g + μΔ counted the momentum twice, and Nesterov diverged (CLI, 4 trainers:
        // eval logloss 4.8 for fr-bmuf, 0.69 for s-bmuf, against 0.526 without Nesterov)
        // a shadow job's result depends on how the threads interleave (one run of plain s-bmuf spreads by about 0.01):
        // compare medians of three runs each, interleaved, so that a drift of the machine hits both alike
        double[] a = new double[3], b = new double[3];
        for (int rep = 0; rep < 3; rep++) {
            Outcome plain = run(new SyncSpec(algorithm, 5, 0, Double.NaN, 1.0, false, Double.NaN), 4, 1, LinkModel.NONE, 1);
            Outcome nesterov = run(new SyncSpec(algorithm, 5, 0, Double.NaN, 1.0, true, Double.NaN), 4, 1, LinkModel.NONE, 1);
            a[rep] = plain.metrics().logloss();
            b[rep] = nesterov.metrics().logloss();
            assertEquals(0, nesterov.result().trainers()[0].nonFiniteBatches(), "no batch went non-finite");
            assertReplicasIdentical(nesterov, algorithm + " with Nesterov");
        }
        java.util.Arrays.sort(a);
        java.util.Arrays.sort(b);
        // not worse than plain BMUF (the double-counted momentum diverged: 0.69 against 0.52); better is no fault (with
        // self-paced shadow rounds it came out 0.011 better once)
        assertTrue(b[1] <= a[1] + 0.01, algorithm + ": median eval logloss " + b[1] + " with Nesterov momentum, " + a[1] + " without ("
                + java.util.Arrays.toString(b) + " vs " + java.util.Arrays.toString(a) + ")");
    }

    /**
     * Gossip trains as well as model averaging at N = 4: each round averages with one peer only, but the last global
     * round and the schedule's mixing keep the replicas close enough that the final model is within 0.01 eval logloss
     * of MA's (medians of three interleaved runs each, as one shadow run spreads by about 0.01). Caught: a gossip whose
     * rounds leave the replicas apart (they drift as with none: +0.03 to +0.04 here), a final model that is one
     * replica rather than the mean.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gossip"})
    void gossipTrainsWithinAHundredthOfModelAveraging(String base) throws Exception {
        for (String mode : new String[] {"s-", "fr-"}) {
            double[] ma = new double[3], gossip = new double[3];
            for (int rep = 0; rep < 3; rep++) {
                ma[rep] = run(mode + "ma", 4, 1).metrics().logloss();
                Outcome g = run(mode + base, 4, 1);
                gossip[rep] = g.metrics().logloss();
                assertReplicasIdentical(g, mode + base + " at N=4");
            }
            java.util.Arrays.sort(ma);
            java.util.Arrays.sort(gossip);
            assertTrue(gossip[1] <= ma[1] + 0.01, mode + base + ": median eval logloss " + gossip[1] + ", " + mode + "ma " + ma[1]
                    + " (" + java.util.Arrays.toString(gossip) + " vs " + java.util.Arrays.toString(ma) + ")");
        }
    }

    /** One trainer with model averaging has nobody to average with: the job says so (the CLI prints it) instead of silently idling. */
    @Test
    void oneTrainerWithACollectiveAlgorithmSaysSo() {
        TrainerConfig tc = new TrainerConfig(1, 64, 0, 1, DataSplit.ROUND_ROBIN, 7, 4, 10_000, false);
        Job alone = new Job(SPEC, 11, OptimizerSpec.of("sgd", 0.3), new EmbeddingOptimizerSpec("sgd", 0.3), train,
                new JobConfig(1, tc, SyncSpec.of("s-ma"), 1, LinkModel.NONE));
        assertEquals(1, alone.notes().size(), alone.notes().toString());
        assertTrue(alone.notes().get(0).contains("s-ma has nobody to synchronize with"), alone.notes().get(0));
        Job two = new Job(SPEC, 11, OptimizerSpec.of("sgd", 0.3), new EmbeddingOptimizerSpec("sgd", 0.3), train,
                new JobConfig(2, tc, SyncSpec.of("s-ma"), 1, LinkModel.NONE));
        assertEquals(List.of(), two.notes());
    }

    /** Shadow rounds complete and send bytes; whether the workers wait for them is WorkerWaitTest's business. */
    @Test
    void shadowRoundsCompleteAndSendBytes() throws Exception {
        Outcome o = run("s-ma", 2, 1);
        for (long rounds : o.result().syncRounds()) assertTrue(rounds > 1, "sync rounds ran: " + rounds);
        assertTrue(o.result().syncBytes()[0] > 0);
    }

    @Test
    void foregroundWorkersWaitForTheirRounds() throws Exception {
        SyncSpec everyStep = new SyncSpec("fr-ma", 1, 0, Double.NaN, 1.0, false, Double.NaN);
        Outcome o = run(everyStep, 2, 2, LinkModel.NONE, 1);
        assertTrue(o.result().workerWaitFraction() > 0, "foreground workers wait: " + o.result().workerWaitFraction());
        assertTrue(o.result().syncRounds()[0] >= 2L * 48_000 / 2 / 64 / 2, "a round every step of each worker pair");
    }

    @Test
    void shadowSyncOverAnEmulatedNetworkAndShardedServer() throws Exception {
        Outcome o = run(SyncSpec.of("s-bmuf"), 2, 1, LinkModel.parse("1gbit", "0.2ms"), 3);
        // every step pulls and pushes embedding rows over a 0.2 ms link: that is waiting, and the metric must show it
        assertTrue(o.result().workerWaitFraction() > 0, "workers wait on the sharded server's links: " + o.result().workerWaitFraction());
        assertTrue(o.metrics().logloss() < single + MARGIN, "logloss " + o.metrics().logloss());
    }
}
