package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.ArraySource;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.AlgorithmDescriptor;
import io.shadowsync.sync.SyncAlgorithms;
import io.shadowsync.sync.SyncSpec;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every shadow algorithm of the registry, self-paced at {@code --sync-cpu 0.05} over an ideal link (rounds are CPU
 * only, so the budget binds): each trainer's sync thread ends with at most 5 % of its trainer's CPU, its own CPU time
 * against its workers' and reader's ({@link SyncStats#cpuShare()}), give or take the last round, which is paid for
 * after it. Catches a round whose work runs where the pacer does not look, and a pacer that stops bounding one
 * algorithm; not a speed test (a loaded machine slows sync thread and workers alike).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SyncCpuShareTest {
    static final int DIM = 64, ROWS = 6000, TRAINERS = 2;
    static final double SHARE = 0.05;

    static List<String> shadowAlgorithms() {
        return SyncAlgorithms.all().stream().filter(d -> d.mode() == SyncSpec.Mode.SHADOW).map(AlgorithmDescriptor::name).toList();
    }

    @ParameterizedTest
    @MethodSource("shadowAlgorithms")
    void theSyncThreadTakesAtMostItsShareOfItsTrainersCpu(String algorithm) throws Exception {
        SplittableRandom rnd = new SplittableRandom(5);
        float[][] x = new float[ROWS][DIM];
        float[] y = new float[ROWS];
        for (int i = 0; i < ROWS; i++) {
            double s = 0;
            for (int j = 0; j < DIM; j++) s += (j % 3 - 1) * (x[i][j] = (float) rnd.nextGaussian());
            y[i] = s + 0.5 * rnd.nextGaussian() > 0 ? 1 : 0;
        }
        // 17k parameters: a round is a few passes over them, a step of 32 examples several times that; 120,000 examples in all
        MlpSpec spec = new MlpSpec(DIM, new int[] {256}, 1, "relu", "binary");
        TrainerConfig tc = new TrainerConfig(1, 32, 0, 20, DataSplit.ROUND_ROBIN, 7, 4, 10_000, false);
        SyncSpec sync = new SyncSpec(algorithm, 50, 0, Double.NaN, 1.0, false, Double.NaN, SHARE);
        Job job = new Job(spec, 5, OptimizerSpec.of("sgd", 0.05), new EmbeddingOptimizerSpec("sgd", 0.1),
                new ArraySource(x, y, 2, -1), new JobConfig(TRAINERS, tc, sync, 1, LinkModel.NONE));
        JobResult r = job.run();
        for (int t = 0; t < TRAINERS; t++) {
            SyncStats s = job.trainer(t).syncStats();
            long sync0 = s.roundCpuNanos() + s.waitCpuNanos(), all = sync0 + s.trainerCpuNanos();
            // the last round and its wait are paid for after them: allow the largest round, and 2 ms
            double bound = SHARE + (s.maxRoundCpuNanos() + 2_000_000.0) / all;
            assertTrue(s.rounds() >= 3, algorithm + ", trainer " + t + ": it syncs while training (" + s.rounds() + " rounds)");
            assertTrue(s.cpuShare() <= bound, algorithm + ", trainer " + t + ": the sync thread took " + s.cpuShare()
                    + " of its trainer's CPU (" + sync0 / 1e6 + " of " + all / 1e6 + " ms, " + s.rounds() + " rounds, the largest "
                    + s.maxRoundCpuNanos() / 1e6 + " ms), above " + bound);
            assertTrue(r.syncCpuShare()[t] == s.cpuShare(), "the result carries the share");
        }
    }
}
