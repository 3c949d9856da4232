package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.LinkModel;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.OptimizerSpec;
import io.shadowsync.sync.SyncAlgorithms;
import io.shadowsync.sync.SyncSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A trainer's workers against a store that behaves as a remote one does: its pushes stay in flight after the step
 * that made them until the thread's next step ends or {@link EmbeddingStore#flush} (then they are applied), and it
 * records which rows each step announced for the next one and which it pulled.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LookAheadTest {
    static final DlrmSpec SPEC = NonFiniteGuardTest.SPEC;
    static final int BATCH = NonFiniteGuardTest.BATCH;

    /**
     * Each step announces, before it pulls anything, exactly the rows its worker's next step then pulls: the worker
     * looks one batch ahead (caught: no look-ahead, announcing the batch in hand, or announcing after the pulls).
     */
    @Test
    void everyStepAnnouncesTheRowsOfTheNextStepBeforeItsOwnPulls() throws Exception {
        Fixture f = new Fixture(2048, 1);
        JobResult r = f.job.run();
        assertEquals(2048, r.examples());
        for (AsyncStore s : f.stores) {
            List<Step> steps = s.steps;
            assertTrue(steps.size() > 100, "steps recorded: " + steps.size());
            for (int k = 0; k + 1 < steps.size(); k++) {
                Step now = steps.get(k), next = steps.get(k + 1);
                assertTrue(now.announcedBeforePull, "step " + k + " announced after it had pulled");
                assertEquals(next.pulled, now.announced, "step " + k + " announced the rows of step " + (k + 1));
            }
            assertEquals(0, s.inFlight(), "the worker flushed its last pushes at its end");
        }
    }

    /**
     * A pause comes to rest with no push in flight (the job flushes the store at rest, before anyone reads the state
     * or has the servers write), and its position counts exactly the batches the workers applied: not the batch a
     * worker took ahead, which the job trains after the pause (every example once: the run's total).
     */
    @Test
    void aPauseFlushesThePushesInFlightAndLeavesTheBatchTakenAheadOutOfThePosition() throws Exception {
        Fixture f = new Fixture(40_000, 1);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        AtomicReference<JobResult> result = new AtomicReference<>();
        Thread runner = new Thread(() -> {
            try {
                result.set(f.job.run());
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "job-under-test");
        runner.start();
        for (int pause = 0; pause < 3; pause++) {
            while (f.stores.get(0).stepCount() < 20 * (pause + 1) && runner.isAlive()) Thread.sleep(1);
            long[] begun = f.job.beginPause();
            try (Job.Paused paused = f.job.finishPause(begun, Duration.ofSeconds(30))) {
                JobState state = paused.state();
                long applied = 0;
                for (AsyncStore s : f.stores) {
                    assertEquals(0, s.inFlight(), "pause " + pause + ": pushes still in flight at rest");
                    applied += s.applied;
                }
                assertEquals(applied, state.examples(), "pause " + pause + ": the position counts the applied batches only");
            }
        }
        runner.join(TimeUnit.SECONDS.toMillis(60));
        assertEquals(null, failed.get());
        assertEquals(40_000, result.get().examples(), "every example trained once: the batch taken ahead was not skipped");
    }

    /** Two trainers of one worker each on in-process state, each trainer's tables behind an {@link AsyncStore}. */
    static final class Fixture {
        final Job job;
        final List<AsyncStore> stores = new ArrayList<>();

        Fixture(int examples, int workers) {
            TrainerConfig tc = new TrainerConfig(workers, BATCH, 0, 1, DataSplit.ROUND_ROBIN, 3, 2, 1000, false);
            JobConfig config = new JobConfig(2, tc, new SyncSpec(SyncAlgorithms.NONE, 5, 0, Double.NaN, 1.0, false, Double.NaN), 1,
                    LinkModel.NONE);
            Model first = SPEC.build();
            first.initDense(11);
            long[][] shapes = first.embeddingShapes();
            float[] std = new float[shapes.length];
            for (int k = 0; k < std.length; k++) std[k] = first.embeddingInitStd(k);
            OptimizerSpec opt = OptimizerSpec.of("sgd", 0.05);
            EmbeddingOptimizerSpec emb = new EmbeddingOptimizerSpec("sgd", 0.05);
            InProcessCluster local = new InProcessCluster(shapes, std, 11, first.dense().data(), opt, emb, config);
            for (int t = 0; t < 2; t++) stores.add(new AsyncStore(local.embeddings(t)));
            Cluster cluster = new ForwardingCluster(local) {
                @Override
                public EmbeddingStore embeddings(int trainer) {
                    return stores.get(trainer);
                }
            };
            job = new Job(SPEC, 11, opt, emb, NonFiniteGuardTest.source(NonFiniteGuardTest.examples(examples, 1)), config, cluster,
                    new int[] {0, 1});
        }
    }

    /** What one step did: the rows it announced for the next step, and those it pulled (table, then ids, per call). */
    static final class Step {
        final List<Integer> announced = new ArrayList<>();
        final List<Integer> pulled = new ArrayList<>();
        boolean announcedBeforePull = true;
    }

    /**
     * A store whose pushes behave as a remote store's: held at a step's end, applied when the thread's next step ends or
     * at a flush. One worker per trainer uses it (single-threaded apart from flush, which runs at rest).
     */
    static final class AsyncStore implements EmbeddingStore {
        final EmbeddingStore inner;
        final List<Step> steps = new ArrayList<>();
        private Step step;
        /** Pushes of the last step ended: table, ids, gradients. */
        private final List<int[]> pendingIds = new ArrayList<>();
        private final List<float[]> pendingGrads = new ArrayList<>();
        private final List<Integer> pendingTables = new ArrayList<>();
        /** Pushes of the step in progress. */
        private final List<int[]> stepIds = new ArrayList<>();
        private final List<float[]> stepGrads = new ArrayList<>();
        private final List<Integer> stepTables = new ArrayList<>();
        /** Examples whose pushes were made, counted at each step's end (one push call per table per example batch). */
        long applied;
        private int stepExamples;

        AsyncStore(EmbeddingStore inner) {
            this.inner = inner;
        }

        @Override
        public int numTables() {
            return inner.numTables();
        }

        @Override
        public long rows(int table) {
            return inner.rows(table);
        }

        @Override
        public int dim(int table) {
            return inner.dim(table);
        }

        @Override
        public synchronized void pull(int table, int[] ids, int idOff, int n, float[] out, int outOff) {
            if (step != null) {
                step.pulled.add(table);
                for (int j = 0; j < n; j++) step.pulled.add(ids[idOff + j]);
            }
            inner.pull(table, ids, idOff, n, out, outOff);
        }

        @Override
        public synchronized void prefetchNext(int table, int[] ids, int idOff, int n) {
            if (step == null) return;
            if (!step.pulled.isEmpty()) step.announcedBeforePull = false;
            step.announced.add(table);
            for (int j = 0; j < n; j++) step.announced.add(ids[idOff + j]);
        }

        @Override
        public synchronized void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff) {
            int dim = inner.dim(table);
            stepTables.add(table);
            stepIds.add(Arrays.copyOfRange(ids, idOff, idOff + n));
            stepGrads.add(Arrays.copyOfRange(grads, gradOff, gradOff + n * dim));
            if (table == 0) stepExamples += BATCH;
        }

        @Override
        public synchronized void beginStep() {
            step = new Step();
            steps.add(step);
            stepExamples = 0;
        }

        @Override
        public synchronized void endStep() {
            applyPending();
            pendingTables.addAll(stepTables);
            pendingIds.addAll(stepIds);
            pendingGrads.addAll(stepGrads);
            stepTables.clear();
            stepIds.clear();
            stepGrads.clear();
            applied += stepExamples;
            stepExamples = 0;
            step = null;
        }

        @Override
        public synchronized void flush() {
            applyPending();
        }

        synchronized int stepCount() {
            return steps.size();
        }

        synchronized int inFlight() {
            return pendingIds.size();
        }

        private void applyPending() {
            for (int i = 0; i < pendingIds.size(); i++) {
                int[] ids = pendingIds.get(i);
                inner.push(pendingTables.get(i), ids, 0, ids.length, pendingGrads.get(i), 0);
            }
            pendingTables.clear();
            pendingIds.clear();
            pendingGrads.clear();
        }
    }
}
