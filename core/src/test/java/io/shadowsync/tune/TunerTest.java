package io.shadowsync.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.api.RunControl;
import io.shadowsync.api.TrainingJob;
import io.shadowsync.api.TrainingResult;
import io.shadowsync.data.ArraySource;
import io.shadowsync.data.InMemorySource;
import io.shadowsync.engine.SlowTrainer;
import io.shadowsync.model.MlpSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tuner and cross-validation on real (small) training jobs. */
class TunerTest {
    @TempDir
    Path dir;

    InMemorySource data;

    /** 4,000 examples of two features, label a + b > 0: an MLP learns it to above 95 % at a fair learning rate. */
    @BeforeEach
    void data() throws Exception {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
        float[][] x = new float[4_000][2];
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i][0] = (float) (rnd.nextDouble() * 2 - 1);
            x[i][1] = (float) (rnd.nextDouble() * 2 - 1);
            y[i] = x[i][0] + x[i][1] > 0 ? 1 : 0;
        }
        data = InMemorySource.load(new ArraySource(x, y, 2, -1));
    }

    TrainingJob.Builder job(Tuner.Trial t) {
        return TrainingJob.builder().data(data).eval(data).model(new MlpSpec(2, new int[] {8}, 1, "relu", "binary"))
                .learningRate(((Number) t.params().get("lr")).doubleValue()).batchSize(16)
                .workers(((Number) t.params().getOrDefault("workers", 1)).intValue()).epochs(2);
    }

    /**
     * Trials of 2 workers each under a budget of 3 cores run one at a time, trials of 1 worker two or three at once: the
     * cores of the trials running never pass the budget (catches a budget that counts trials, not trainers × workers).
     * The best is the fair learning rate; every trial has its metrics.jsonl and summary.json.
     */
    @Test
    void trialsRunWithinTheCoreBudgetAndTheBestIsFound() throws Exception {
        SearchSpace space = SearchSpace.builder().choice("lr", List.of(1e-6, 0.1)).choice("workers", List.of(1, 2)).build();
        AtomicInteger running = new AtomicInteger(), most = new AtomicInteger();
        TuningResult r = Tuner.builder().search(Search.grid(space)).trials(4).cores(3).objective(Objective.of("accuracy"))
                .jobs(this::job).runDir(dir.resolve("tune"))
                .listener(new Tuner.Listener() {
                    @Override
                    public void started(Tuner.Trial t) {
                        most.accumulateAndGet(running.addAndGet(((Number) t.params().get("workers")).intValue()), Math::max);
                    }

                    @Override
                    public void finished(TrialResult t) {
                        running.addAndGet(-((Number) t.params().get("workers")).intValue());
                    }
                }).build().run();
        assertEquals(4, r.trials().size());
        assertTrue(most.get() <= 3, "the running trials took " + most.get() + " cores at once, over the budget of 3");
        TrialResult best = r.best();
        assertNotNull(best);
        assertEquals(0.1, best.params().get("lr"));
        assertTrue(best.value() > 0.9, "best accuracy " + best.value());
        assertEquals(best, r.ranked().get(0));
        for (TrialResult t : r.trials()) {
            assertEquals(TrialResult.Status.DONE, t.status());
            assertTrue(Files.size(t.dir().resolve("metrics.jsonl")) > 0);
            assertTrue(Files.readString(t.dir().resolve("summary.json")).contains("\"trial\":" + t.number()));
        }
        assertTrue(r.table().lines().count() == 5, r.table());
    }

    /**
     * ASHA with eta 2 and one trial at a time: the first (fair) trial goes on at every rung, the three with a learning rate
     * too small to learn are stopped at the first rung through their RunControl — they train far fewer examples than
     * their budget (catches a stop decision that never reaches the running job).
     */
    @Test
    void ashaStopsTheTrialsThatFallBehind() throws Exception {
        SearchSpace space = SearchSpace.builder().choice("lr", List.of(0.1, 1e-7, 2e-7, 3e-7)).build();
        long budget = 40_000;
        TuningResult r = Tuner.builder().search(Search.grid(space)).trials(4).cores(1).objective(Objective.of("accuracy"))
                .jobs(t -> job(t).epochs(1).examples(budget).slowTrainer(new SlowTrainer(0, 1, false)))
                .earlyStopping(new Asha(2_000, 2), 2_000).build().run();
        List<TrialResult> t = r.trials();
        assertEquals(TrialResult.Status.DONE, t.get(0).status());
        assertEquals(budget, t.get(0).examples());
        for (int i = 1; i < 4; i++) {
            assertEquals(TrialResult.Status.STOPPED, t.get(i).status(), "trial " + (i + 1));
            assertTrue(t.get(i).stoppedAt() >= 2_000 && t.get(i).examples() < budget / 2,
                    "trial " + (i + 1) + " stopped at " + t.get(i).stoppedAt() + " after " + t.get(i).examples() + " examples");
            assertNotNull(t.get(i).eval(), "a stopped trial is evaluated where it stopped");
        }
        assertEquals(1, r.best().number());
    }

    /** A trial whose training fails is recorded as failed, and the search goes on. */
    @Test
    void aFailedTrialDoesNotEndTheSearch() throws Exception {
        SearchSpace space = SearchSpace.builder().choice("lr", List.of(1e30, 0.1)).build();
        TuningResult r = Tuner.builder().search(Search.grid(space)).trials(2).cores(1).objective(Objective.of("accuracy"))
                .jobs(t -> job(t).maxNonFinite(1)).build().run();
        assertEquals(TrialResult.Status.FAILED, r.trials().get(0).status());
        assertNotNull(r.trials().get(0).error());
        assertEquals(2, r.best().number());
        assertEquals(TrialResult.Status.FAILED, r.ranked().get(1).status());
    }

    @Test
    void aStopAskedBeforeTheRunEndsItAtItsFirstBatch() throws Exception {
        RunControl control = new RunControl();
        control.stop();
        TrainingResult r = TrainingJob.builder().data(data).batchSize(16).epochs(5).build().run(control);
        assertTrue(r.examples() <= 16, "trained " + r.examples() + " examples after a stop");
        assertThrows(IllegalStateException.class, () -> TrainingJob.builder().data(data).build().run(control));
    }

    /**
     * Every fold trains on the others and is evaluated on its own; mean and std are those of the folds' metrics (catches
     * a fold evaluated on its training data, which would hold more examples, and a population std).
     */
    @Test
    void crossValidationEvaluatesEachFoldOnItsHeldOutExamples() throws Exception {
        float[] labels = new float[data.size()];
        for (int i = 0; i < labels.length; i++) labels[i] = data.label(i);
        int[][] folds = Folds.stratified(labels, 4, 1);
        CrossValidation.Result r = CrossValidation.run(data, folds, 2, (f, train, heldOut) -> TrainingJob.builder().data(train).eval(heldOut)
                .model(new MlpSpec(2, new int[] {8}, 1, "relu", "binary")).learningRate(0.1).batchSize(16).epochs(2));
        assertEquals(4, r.folds().size());
        double sum = 0, sq = 0;
        for (CrossValidation.FoldResult f : r.folds()) {
            assertEquals(folds[f.fold()].length, f.evalExamples());
            assertEquals(folds[f.fold()].length, f.eval().count());
            assertEquals(data.size() - folds[f.fold()].length, f.trainExamples());
            assertTrue(f.eval().accuracy() > 0.9, "fold " + f.fold() + " accuracy " + f.eval().accuracy());
            sum += f.eval().accuracy();
        }
        double mean = sum / 4;
        for (CrossValidation.FoldResult f : r.folds()) sq += (f.eval().accuracy() - mean) * (f.eval().accuracy() - mean);
        assertEquals(mean, r.mean().get("accuracy"), 1e-12);
        assertEquals(Math.sqrt(sq / 3), r.std().get("accuracy"), 1e-12);
        assertTrue(r.table().contains("±"), r.table());
    }
}
