package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.ArraySource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.model.MlpSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.SyncSpec;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What {@code worker_wait_fraction} measures: the share of worker time spent not computing — taking a batch (the
 * reader, a pause), at a foreground round or a synchronous step, on the parameter servers. Two trainers of a dense
 * MLP (no tables) synchronize over a link of 20 ms latency, so every model-averaging round takes at least 40 ms while a
 * worker's step takes microseconds. In the foreground (a round every step) the workers spend nearly all their time
 * waiting and the metric shows it; in shadow mode the same rounds run beside the workers and the metric stays small.
 * Caught: a metric that reports 0 whatever happens (the foreground assertion), and shadow workers held by their
 * trainer's rounds (a lock, the pause gate, a queue the sync thread fills) — the shadow assertion.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WorkerWaitTest {
    static final MlpSpec SPEC = new MlpSpec(4, new int[] {8}, 1, "relu", "binary");
    static final int BATCH = 16, STEPS = 40;

    static JobResult run(String algorithm) throws Exception {
        SplittableRandom r = new SplittableRandom(3);
        int n = 2 * STEPS * BATCH;
        float[][] x = new float[n][4];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 4; k++) x[i][k] = (float) r.nextGaussian();
            y[i] = x[i][0] + x[i][1] > 0 ? 1 : 0;
        }
        InMemorySource train = InMemorySource.load(new ArraySource(x, y, 2, -1));
        TrainerConfig tc = new TrainerConfig(1, BATCH, 0, 1, DataSplit.ROUND_ROBIN, 7, 4, 10_000, false);
        SyncSpec sync = new SyncSpec(algorithm, 1, 0, Double.NaN, 1.0, false, Double.NaN);
        Job job = new Job(SPEC, 11, OptimizerSpec.of("sgd", 0.05), new EmbeddingOptimizerSpec("sgd", 0.05), train,
                new JobConfig(2, tc, sync, 1, LinkModel.parse("1gbit", "20ms")));
        JobResult result = job.run();
        assertEquals(n, result.examples());
        return result;
    }

    @Test
    void foregroundWorkersWaitForTheirRoundsAndShadowWorkersDoNot() throws Exception {
        JobResult fr = run("fr-ma");
        assertTrue(fr.workerWaitFraction() > 0.5, "a 40 ms round after every step of microseconds: " + fr.workerWaitFraction());
        JobResult shadow = run("s-ma");
        assertTrue(shadow.syncRounds()[0] > 0, "rounds ran");
        assertTrue(shadow.workerWaitFraction() < 0.5, "shadow workers never wait for a round: " + shadow.workerWaitFraction());
    }
}
