package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.data.SyntheticCtr;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.SyncSpec;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An emulated straggler ({@link SlowTrainer}): in shadow mode the other trainers' workers never wait on it — their
 * synchronization wait counter stays exactly 0, as does its own (its sleep is busy time) — while in the foreground,
 * with a round every step, they wait at every round for it. Throughput is the benchmark's business (StragglerBench);
 * here only the mechanism: who waits.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SlowTrainerTest {
    @TempDir
    static Path dir;
    static InMemorySource train;
    static final DlrmSpec SPEC = new DlrmSpec(13, 26, 100, 8, new int[] {16}, new int[] {16});
    /** 40 batches of 32 per trainer: the slow one sleeps 40 × 10 ms. */
    static final int BATCH = 32, EXAMPLES = 2 * 40 * BATCH;

    @BeforeAll
    static void data() throws Exception {
        new SyntheticCtr(new SyntheticCtr.Config(4_000, 100, 5, 100)).generate(dir);
        train = InMemorySource.load(new CriteoTsvSource(dir.resolve("train.tsv"), false));
    }

    static JobResult run(String algorithm, SlowTrainer slow) throws Exception {
        TrainerConfig tc = new TrainerConfig(1, BATCH, EXAMPLES, 1, DataSplit.ROUND_ROBIN, 7, 4, 10_000, false);
        SyncSpec sync = new SyncSpec(algorithm, 1, 0, Double.NaN, 1.0, false, Double.NaN);
        Job job = new Job(SPEC, 11, OptimizerSpec.of("sgd", 0.1), new EmbeddingOptimizerSpec("sgd", 0.1), train,
                new JobConfig(2, tc, sync, 1, LinkModel.NONE, slow));
        return job.run();
    }

    /**
     * The fast trainer's workers wait (for batches, rounds, servers) far less in shadow mode than in the foreground
     * beside the same straggler, where they wait for it at every round: a shadow mode that held them at its rounds
     * would wait as long. The slow one's sleep is its busy time, not a wait.
     */
    @Test
    void inShadowModeNobodyWaitsForTheSlowTrainer() throws Exception {
        JobResult r = run("s-ma", new SlowTrainer(1, 10));
        assertEquals(EXAMPLES, r.examples());
        assertTrue(r.syncRounds()[0] > 0, "rounds ran meanwhile");
        JobResult fr = run("fr-ma", new SlowTrainer(1, 10));
        double shadowWait = wait(r.trainers()[0]), foregroundWait = wait(fr.trainers()[0]);
        assertTrue(foregroundWait > 0.5, "in the foreground the fast trainer waits for the slow one: " + foregroundWait);
        assertTrue(shadowWait < foregroundWait / 2, "shadow " + shadowWait + " vs foreground " + foregroundWait);
        assertTrue(wait(r.trainers()[1]) < 0.5, "the slow trainer's sleep is busy time: " + wait(r.trainers()[1]));
    }

    /** All of a trainer's waiting: for batches, on synchronization and servers. */
    static double wait(TrainResult t) {
        return t.readerWaitFraction() + t.syncWaitFraction();
    }

    @Test
    void inTheForegroundTheOthersWaitForItEveryRound() throws Exception {
        JobResult r = run("fr-ma", new SlowTrainer(1, 10));
        assertEquals(EXAMPLES, r.examples());
        // every step of trainer 0 ends in a round that needs trainer 1, which sleeps 10 ms before each of its steps:
        // trainer 0 waits that long at every round, trainer 1 only for the round itself (no bound on how long: the
        // machine's speed is the benchmark's business)
        double fast = r.trainers()[0].syncWaitFraction(), slow = r.trainers()[1].syncWaitFraction();
        assertTrue(fast > 0, "the fast trainer waits on the slow one");
        assertTrue(fast > slow, "the fast trainer waits longer than the slow one: " + fast + " vs " + slow);
        assertTrue(r.syncRounds()[0] >= EXAMPLES / 2 / BATCH, "a round every step: " + r.syncRounds()[0]);
    }

    @Test
    void aSpinningSlowTrainerIsNoWaitEither() throws Exception {
        JobResult r = run("s-ma", new SlowTrainer(0, 2, true));
        assertEquals(EXAMPLES, r.examples());
        assertTrue(wait(r.trainers()[0]) < 0.5, "spinning is busy time: " + wait(r.trainers()[0]));
        assertTrue(wait(r.trainers()[1]) < 0.5, "the other trainer does not wait for it: " + wait(r.trainers()[1]));
    }

    @ParameterizedTest
    @ValueSource(strings = {"s-easgd", "fr-easgd"})
    void easgdsFinalModelIsTheCenterAfterEveryTrainersLastRound(String algorithm) throws Exception {
        // trainer 0 ends long before the slow trainer 1, whose rounds go on pushing into the center: the final model
        // must be the center after those pushes, not the center as trainer 0 saw it when its own workers were done
        TrainerConfig tc = new TrainerConfig(1, BATCH, EXAMPLES, 1, DataSplit.ROUND_ROBIN, 7, 4, 10_000, false);
        SyncSpec sync = new SyncSpec(algorithm, 1, 0, Double.NaN, 1.0, false, Double.NaN);
        Job job = new Job(SPEC, 11, OptimizerSpec.of("sgd", 0.1), new EmbeddingOptimizerSpec("sgd", 0.1), train,
                new JobConfig(2, tc, sync, 1, LinkModel.NONE, new SlowTrainer(1, 10)));
        job.run();
        float[] model = job.model().dense().data(), center = new float[model.length];
        ((InProcessCluster) job.cluster()).denseServer().pull(center);
        assertArrayEquals(center, model, algorithm + ": the final model is the center once every trainer has ended");
    }

    @Test
    void badEmulationsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SlowTrainer(0, 0));
        assertTrue(e.getMessage().contains("at least 1 ms per batch"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SlowTrainer(-1, 5));
        assertTrue(e.getMessage().contains("rank must be ≥ 0"), e.getMessage());
        TrainerConfig tc = new TrainerConfig(1, BATCH, EXAMPLES, 1, DataSplit.ROUND_ROBIN, 7, 4, 10_000, false);
        e = assertThrows(IllegalArgumentException.class, () -> new JobConfig(2, tc, SyncSpec.of("s-ma"), 1, LinkModel.NONE, new SlowTrainer(2, 5)));
        assertTrue(e.getMessage().contains("the slow trainer is trainer 2, but the job's trainers are 0..1"), e.getMessage());
    }
}
