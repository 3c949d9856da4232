package io.shadowsync.ckpt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.CriteoTsvSource;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.data.SyntheticCtr;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.engine.Evaluator;
import io.shadowsync.engine.Job;
import io.shadowsync.engine.JobConfig;
import io.shadowsync.engine.JobResult;
import io.shadowsync.engine.TrainerConfig;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.SyncAlgorithms;
import io.shadowsync.sync.SyncSpec;
import io.shadowsync.testing.LogCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Write a checkpoint mid-run, stop the job, resume from the checkpoint in a new job: with one trainer, one worker and
 * a fixed seed the final model is bit-for-bit the model of a run never stopped (dense parameters, every embedding
 * table), for streamed and in-memory data, the dense optimizer's state (Adam), the row optimizer's (row-wise
 * Adagrad), BMUF's global model and momentum, the EASGD center and asynchronous SGD's server. With several trainers
 * and workers (not deterministic) every algorithm comes to rest for a checkpoint and a resumed job trains exactly the
 * rest of the budget.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CheckpointResumeTest {
    static final DlrmSpec SPEC = new DlrmSpec(13, 26, 50, 4, new int[] {16}, new int[] {16});
    static final int ROWS = 4000;

    @TempDir
    static Path data;
    static DataSource streamed;
    static InMemorySource inMemory;

    @BeforeAll
    static void generate() throws Exception {
        new SyntheticCtr(new SyntheticCtr.Config(ROWS, 10, 3, 50)).generate(data);
        streamed = new CriteoTsvSource(data.resolve("train.tsv"), false);
        inMemory = InMemorySource.load(streamed);
    }

    static Job job(SyncSpec sync, boolean memory, int trainers, int workers, int shards) {
        TrainerConfig tc = new TrainerConfig(workers, 32, 0, 2, DataSplit.ROUND_ROBIN, 7, 4, 1000, memory);
        return new Job(SPEC, 11, OptimizerSpec.of("adam", 0.01), new EmbeddingOptimizerSpec("rowwise-adagrad", 0.05),
                memory ? inMemory : streamed, new JobConfig(trainers, tc, sync, shards, LinkModel.NONE));
    }

    static SyncSpec sync(String algorithm) {
        // foreground rounds every 5 steps; BMUF with momentum, so that its state matters even for one trainer
        return new SyncSpec(algorithm, 5, 0, algorithm.contains("bmuf") ? 0.5 : Double.NaN, 1.0, false, Double.NaN);
    }

    /** The trained model's dense parameters followed by every embedding table, as one array. */
    static float[] model(Job job) {
        EmbeddingStore t = job.tables();
        List<float[]> parts = new ArrayList<>();
        parts.add(job.model().dense().data().clone());
        for (int k = 0; k < t.numTables(); k++) {
            int rows = (int) t.rows(k), dim = t.dim(k);
            int[] ids = new int[rows];
            for (int i = 0; i < rows; i++) ids[i] = i;
            float[] table = new float[rows * dim];
            t.pull(k, ids, 0, rows, table, 0);
            parts.add(table);
        }
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] all = new float[n];
        int o = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, o, p.length);
            o += p.length;
        }
        return all;
    }

    /**
     * Runs job on a thread; once it has trained {@code from} examples, writes a checkpoint into dir and, when
     * {@code stop}, stops the job (the "kill"). Returns the checkpoint written.
     */
    static Path runAndCheckpoint(Job job, CheckpointDir dir, long from, boolean stop) throws Exception {
        Checkpointer cp = new Checkpointer(job, dir, Map.of("test", "1"), 0, 0, Duration.ofSeconds(20));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread runner = new Thread(() -> {
            try {
                job.run();
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "test-job");
        runner.start();
        Path written;
        try {
            while (job.progress().examples() < from && runner.isAlive()) Thread.onSpinWait();
            written = cp.checkpoint();
            if (stop) job.stop();
        } finally {
            runner.join(20_000);
        }
        if (failure.get() != null) throw new AssertionError("the job failed", failure.get());
        assertEquals(false, runner.isAlive(), "the job ended");
        return written;
    }

    @ParameterizedTest(name = "{0}, in memory {1}, {2} shard(s)")
    @CsvSource({"none, true, 1", "none, false, 2", "async-ps, true, 1", "sync-sgd, false, 1", "fr-easgd, true, 1", "fr-bmuf, false, 2"})
    void resumedSingleWorkerRunIsBitForBitTheUninterruptedOne(String algorithm, boolean memory, int shards, @TempDir Path dir) throws Exception {
        Job whole = job(sync(algorithm), memory, 1, 1, shards);
        JobResult all = whole.run();
        float[] expected = model(whole);
        long total = all.examples();
        assertEquals(2L * ROWS, total);

        CheckpointDir ckdir = new CheckpointDir(dir, 3);
        Path ck = runAndCheckpoint(job(sync(algorithm), memory, 1, 1, shards), ckdir, total / 3, true);
        CheckpointDir.Loaded loaded = CheckpointDirTest.newest(ckdir).orElseThrow();
        assertEquals(List.of(), CheckpointDirTest.warnings, "no warning expected");
        assertEquals(ck, loaded.path());
        long at = loaded.manifest().examples();
        assertTrue(at > 0 && at < total, "checkpoint mid-run: at " + at + " of " + total);

        Job resumed = job(sync(algorithm), memory, 1, 1, shards);
        resumed.restore(loaded.state());
        JobResult rest = resumed.run();
        assertEquals(total, rest.examples(), "the whole budget, counted across the restart");
        assertArrayEquals(expected, model(resumed), algorithm + ": resumed model differs from the uninterrupted one");
    }

    /** Every registered algorithm: a new one is checkpointed and resumed here the day it is registered. */
    static List<String> algorithms() {
        return SyncAlgorithms.names();
    }

    @ParameterizedTest
    @MethodSource("algorithms")
    void everyAlgorithmComesToRestAndAResumedJobTrainsTheRest(String algorithm, @TempDir Path dir) throws Exception {
        CheckpointDir ckdir = new CheckpointDir(dir, 2);
        Job first = job(sync(algorithm), true, 2, 2, 2);
        Path ck = runAndCheckpoint(first, ckdir, ROWS / 2, false);
        assertNotNull(ck);
        CheckpointDir.Loaded loaded = ckdir.newest().orElseThrow();
        long at = loaded.manifest().examples();
        assertTrue(at > 0 && at <= 2L * ROWS, algorithm + ": checkpoint at " + at);
        assertEquals(at, loaded.state().trainers().get(0).totals().examples() + loaded.state().trainers().get(1).totals().examples(),
                "the counters agree with the data positions");

        Job resumed = job(sync(algorithm), true, 2, 2, 2);
        resumed.restore(loaded.state());
        JobResult rest = resumed.run();
        assertEquals(2L * ROWS, rest.examples(), algorithm + ": the resumed job trains the rest of the budget");
        double ll = Evaluator.evaluate(resumed.model(), resumed.tables(), inMemory, 1024).metrics().logloss();
        assertTrue(Double.isFinite(ll) && ll < 0.69, algorithm + ": resumed model's logloss " + ll);
    }

    @Test
    void aStateOfAnotherShapeIsRefusedWithTheDifference(@TempDir Path dir) throws Exception {
        Job one = job(sync("none"), true, 1, 1, 1);
        one.run();
        CheckpointDir ckdir = new CheckpointDir(dir, 1);
        try (Job.Paused p = one.pause(Duration.ofSeconds(5))) {
            ckdir.write(p.state(), Map.of());
        }
        CheckpointDir.Loaded loaded = ckdir.newest().orElseThrow();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> job(sync("s-ma"), true, 2, 1, 1).restore(loaded.state()));
        assertTrue(e.getMessage().contains("1 trainer(s), this job runs 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> job(sync("none"), false, 1, 1, 1).restore(loaded.state()));
        assertTrue(e.getMessage().contains("streamed source resumes from a stream position"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> job(sync("none"), true, 1, 1, 2).restore(loaded.state()));
        assertTrue(e.getMessage().contains("1 embedding shard(s), this job 2"), e.getMessage());
    }

    @Test
    void theSettingDifferencesAreNamed() {
        List<String> d = CheckpointDir.differences(Map.of("optimizer.lr", "0.5", "workers", "1", "seed", "3"),
                Map.of("optimizer.lr", "0.1", "workers", "1", "trainers", "2"));
        assertEquals(List.of("optimizer.lr is 0.1, the checkpoint has 0.5", "seed is not set, the checkpoint has 3",
                "trainers is 2, the checkpoint has none"), d);
        assertEquals(List.of(), CheckpointDir.differences(Map.of("a", "1"), Map.of("a", "1")));
    }

    /**
     * A periodic checkpoint that cannot be written is logged at ERROR (shown by the JDK's default logging and by the
     * CLI, which prints it as its own line) naming the directory and why, with the count of failures allowed; after
     * maxFailures in a row the checkpointer says it stops the job and does.
     */
    @Test
    void checkpointsThatCannotBeWrittenAreLoggedAsErrorsUntilTheJobStops(@TempDir Path dir) throws Exception {
        Path notADir = Files.writeString(dir.resolve("a-file"), "a file where the checkpoint directory's parent should be");
        Path ckpts = notADir.resolve("ckpts");
        // 50 epochs: far more than the two attempts need, so that only the checkpointer's stop ends it early
        TrainerConfig tc = new TrainerConfig(1, 32, 0, 50, DataSplit.ROUND_ROBIN, 7, 4, 1000, true);
        Job j = new Job(SPEC, 11, OptimizerSpec.of("adam", 0.01), new EmbeddingOptimizerSpec("rowwise-adagrad", 0.05), inMemory,
                new JobConfig(2, tc, sync("s-ma"), 1, LinkModel.NONE));
        Checkpointer cp = new Checkpointer(j, new CheckpointDir(ckpts, 2), Map.of(), 0, 200, Duration.ofSeconds(20), 2);
        try (LogCapture logs = LogCapture.of(Checkpointer.class.getName())) {
            cp.start();
            JobResult r = j.run();
            cp.stop();
            List<String> errors = logs.messages(Level.SEVERE);
            assertEquals(3, errors.size(), errors.toString());
            for (int k = 0; k < 2; k++) {
                assertTrue(errors.get(k).startsWith("could not write a checkpoint into " + ckpts + ": " + notADir), errors.get(k));
                assertTrue(errors.get(k).endsWith(" (" + (k + 1) + " of 2 failures in a row allowed)"), errors.get(k));
            }
            assertEquals("stopping the job: 2 checkpoints in a row could not be written", errors.get(2));
            assertEquals(List.of(), logs.messages(Level.INFO), "no checkpoint was written");
            assertTrue(cp.gaveUp());
            assertTrue(r.examples() < 50L * ROWS, "the job stopped early: " + r.examples() + " of " + 50L * ROWS);
        }
    }

    @Test
    void periodicCheckpointsEveryExamplesKeepTheNewestK(@TempDir Path dir) throws Exception {
        Job j = job(sync("s-ma"), true, 2, 1, 1);
        Checkpointer cp = new Checkpointer(j, new CheckpointDir(dir, 2), Map.of(), 0, 1000, Duration.ofSeconds(20));
        List<String> log;
        try (LogCapture logs = LogCapture.of(Checkpointer.class.getName())) {
            cp.start();
            j.run();
            cp.stop();
            log = logs.messages(Level.INFO);
        }
        assertTrue(cp.written() >= 1, "written " + cp.written() + ": " + log);
        assertEquals(cp.written(), log.size(), log.toString());
        for (String line : log) assertTrue(line.startsWith("wrote checkpoint " + dir.resolve("ckpt-")), line);
        assertTrue(cp.lastExamples() >= 1000, "the first is due after 1000 examples: " + cp.lastExamples());
        try (var list = Files.list(dir)) {
            assertEquals(Math.min(2, cp.written()), list.count());
        }
        assertEquals(cp.last(), new CheckpointDir(dir, 2).newest().orElseThrow().path());
    }

    @Test
    void aCheckpointOfAFinishedJobHoldsTheWholeBudget(@TempDir Path dir) throws Exception {
        Job one = job(sync("none"), false, 1, 1, 1);
        one.run();
        try (Job.Paused p = one.pause(Duration.ofSeconds(5))) {
            Path ck = new CheckpointDir(dir, 1).write(p.state(), Map.of());
            assertTrue(Files.exists(ck.resolve(Manifest.NAME)));
            assertEquals(2L * ROWS, p.state().examples());
        }
    }
}
