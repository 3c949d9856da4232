package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.ArraySource;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.SyncAlgorithms;
import io.shadowsync.sync.SyncSpec;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Foreground rounds cross the job's emulated network as shadow rounds do: with {@code --sync-every 1} and a link of
 * latency L (unlimited bandwidth), every worker step is followed by a blocking round, and a round takes at least the
 * latencies it must wait out one after the other — 2(N − 1)·L for a ring allreduce of N trainers (reduce-scatter,
 * then allgather, each step waiting for the one before), at least one L for any other. Catches foreground rounds
 * built over an ideal link (they would take microseconds), and a {@code --sync-every} that does not round after every
 * step. A lower bound on emulated sleeps only: a loaded machine makes rounds longer, never shorter.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ForegroundLinkTest {
    static final int TRAINERS = 2, BATCH = 32, STEPS = 12, DIM = 8;
    // long beside what a round waits for its peer on a loaded machine (its step, the scheduler), which an ideal link
    // would leave alone in the round time
    static final double LATENCY_MS = 40;

    /** Every algorithm of the registry whose rounds block the workers. */
    static List<String> foregroundAlgorithms() {
        return SyncAlgorithms.names().stream().filter(name -> SyncAlgorithms.get(name).foreground()).toList();
    }

    @ParameterizedTest
    @MethodSource("foregroundAlgorithms")
    void everyStepIsFollowedByARoundThatWaitsOutTheLinksLatency(String algorithm) throws Exception {
        int rows = TRAINERS * BATCH * STEPS;
        SplittableRandom rnd = new SplittableRandom(9);
        float[][] x = new float[rows][DIM];
        float[] y = new float[rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < DIM; j++) x[i][j] = (float) rnd.nextGaussian();
            y[i] = x[i][0] > 0 ? 1 : 0;
        }
        TrainerConfig tc = new TrainerConfig(1, BATCH, 0, 1, DataSplit.ROUND_ROBIN, 7, 4, 10_000, false);
        SyncSpec sync = new SyncSpec(algorithm, 1, 0, Double.NaN, 1.0, false, Double.NaN);
        Job job = new Job(new MlpSpec(DIM, new int[] {8}, 1, "relu", "binary"), 5, OptimizerSpec.of("sgd", 0.05),
                new EmbeddingOptimizerSpec("sgd", 0.1), new ArraySource(x, y, 2, -1),
                new JobConfig(TRAINERS, tc, sync, 1, LinkModel.parse("inf", LATENCY_MS + "ms")));
        JobResult r = job.run();
        boolean ring = sync.descriptor().trainerGroup() && !sync.descriptor().pairwise(); // an allreduce, not exchanges
        double least = (ring ? 2 * (TRAINERS - 1) : 1) * LATENCY_MS;
        for (int t = 0; t < TRAINERS; t++) {
            long steps = r.trainers()[t].examples() / BATCH;
            assertTrue(r.syncRounds()[t] >= steps, algorithm + ", trainer " + t + ": " + r.syncRounds()[t] + " rounds for " + steps
                    + " steps with --sync-every 1");
            assertTrue(r.meanRoundMillis()[t] >= least, algorithm + ", trainer " + t + ": a round took " + r.meanRoundMillis()[t]
                    + " ms on average, under the " + least + " ms of latency it must wait out (link latency " + LATENCY_MS + " ms)");
        }
    }
}
