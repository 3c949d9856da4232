package io.shadowsync.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.comm.Collective;
import io.shadowsync.comm.InProcessCollectives;
import io.shadowsync.comm.LinkModel;
import io.shadowsync.data.Batch;
import io.shadowsync.data.DataException;
import io.shadowsync.data.DataSchema;
import io.shadowsync.data.DataSource;
import io.shadowsync.data.ExampleReader;
import io.shadowsync.engine.feed.DataSplit;
import io.shadowsync.kernels.Vec;
import io.shadowsync.model.DlrmSpec;
import io.shadowsync.nn.EmbeddingStore;
import io.shadowsync.nn.LocalEmbeddingStore;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.Workspace;
import io.shadowsync.optim.EmbeddingOptimizerSpec;
import io.shadowsync.optim.Sgd;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A step whose loss, dense gradient or any embedding-gradient row is NaN or infinite is skipped before it reaches
 * the embedding store or the replica (which stay bit-identical), is counted, and training goes on; a step without
 * one trains exactly as it did when the model pushed straight into the store.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NonFiniteGuardTest {
    static final DlrmSpec SPEC = new DlrmSpec(3, 2, 40, 4, new int[] {8}, new int[] {8});
    static final int BATCH = 4;

    /** A DLRM-shaped example: dense features, two categorical ids, a 0/1 label. */
    record Example(float[] dense, int[] cat, float label) {}

    static List<Example> examples(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] d = {(float) r.nextDouble(), (float) r.nextDouble(2), (float) r.nextGaussian()};
            out.add(new Example(d, new int[] {r.nextInt(1000), r.nextInt(1000)}, r.nextInt(2)));
        }
        return out;
    }

    /** The examples, in order, as a streamed source. */
    static DataSource source(List<Example> examples) {
        return source(examples, -1, () -> false, null);
    }

    /**
     * The examples, in order, as a streamed source; a reader opened where {@code failsHere} is true finds example
     * {@code failAt} malformed (every epoch) and records the first such error in {@code injected}.
     */
    static DataSource source(List<Example> examples, int failAt, BooleanSupplier failsHere, AtomicReference<Throwable> injected) {
        DataSchema schema = new DataSchema(SPEC.numDense(), SPEC.numCat(), false, 0, 2);
        return new DataSource() {
            @Override
            public DataSchema schema() {
                return schema;
            }

            @Override
            public String describe() {
                return "examples:test";
            }

            @Override
            public ExampleReader open() {
                boolean faulty = failsHere.getAsBoolean();
                return new ExampleReader() {
                    int next;

                    @Override
                    public DataSchema schema() {
                        return schema;
                    }

                    @Override
                    public boolean readInto(Batch b) {
                        if (next == examples.size()) return false;
                        if (faulty && next == failAt) {
                            DataException e = new DataException("examples:test", next + 1, "malformed on purpose");
                            injected.compareAndSet(null, e);
                            throw e;
                        }
                        Example e = examples.get(next++);
                        int k = b.size;
                        System.arraycopy(e.dense(), 0, b.dense, k * b.numDense, b.numDense);
                        System.arraycopy(e.cat(), 0, b.cat, k * b.numCat, b.numCat);
                        b.labels[k] = e.label();
                        b.size = k + 1;
                        return true;
                    }

                    @Override
                    public long skippedLines() {
                        return 0;
                    }

                    @Override
                    public void close() {
                    }
                };
            }
        };
    }

    /** A model with its tables, both from fixed seeds. */
    record Setup(Model model, LocalEmbeddingStore store) {
        static Setup of(Model model) {
            model.initDense(5);
            long[][] shapes = model.embeddingShapes();
            float[] std = new float[shapes.length];
            Arrays.fill(std, 0.05f);
            return new Setup(model, new LocalEmbeddingStore(shapes, std, 9, new EmbeddingOptimizerSpec("rowwise-adagrad", 0.1)));
        }

        float[] dense() {
            return model.dense().data().clone();
        }

        float[][] tables() {
            float[][] t = new float[store.numTables()][];
            for (int i = 0; i < t.length; i++) t[i] = store.table(i).clone();
            return t;
        }

        TrainResult train(List<Example> data) throws InterruptedException {
            TrainerConfig c = new TrainerConfig(1, BATCH, 0, 1, DataSplit.ROUND_ROBIN, 3, 2, 1000, false);
            return new Trainer(0, model, store, new Sgd(model.dense().size(), 0.05), source(data), c).run();
        }
    }

    static void assertBitIdentical(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(what + "[" + i + "]: " + want[i] + " vs " + got[i]);
            }
        }
    }

    static void assertSameModel(Setup want, Setup got) {
        assertBitIdentical(want.model().dense().data(), got.model().dense().data(), "dense replica");
        for (int t = 0; t < want.store().numTables(); t++) assertBitIdentical(want.store().table(t), got.store().table(t), "table " + t);
    }

    /**
     * Why the gradient must be checked and not just the loss: ReLU maps NaN to 0, so a NaN feature leaves DLRM's
     * loss finite while the first layer's weight gradient (input × upstream gradient) is NaN.
     */
    @Test
    void aNaNFeatureGivesAFiniteLossButANaNGradient() {
        Setup s = Setup.of(SPEC.build());
        Batch b = new Batch(BATCH, SPEC.numDense(), SPEC.numCat(), false);
        for (Example e : poisoned(examples(BATCH, 1), 0, Float.NaN)) {
            System.arraycopy(e.dense(), 0, b.dense, b.size * b.numDense, b.numDense);
            System.arraycopy(e.cat(), 0, b.cat, b.size * b.numCat, b.numCat);
            b.labels[b.size++] = e.label();
        }
        Workspace ws = s.model().newWorkspace(BATCH);
        double loss = s.model().forwardBackward(b, ws, s.store());
        assertTrue(Double.isFinite(loss), "loss " + loss);
        assertFalse(Vec.allFinite(ws.denseGrad().length, ws.denseGrad(), 0), "the dense gradient has a NaN");
    }

    /** Copies examples with dense feature 0 of example `at` set to v. */
    static List<Example> poisoned(List<Example> examples, int at, float v) {
        List<Example> out = new ArrayList<>(examples);
        Example e = out.get(at);
        float[] d = e.dense().clone();
        d[0] = v;
        out.set(at, new Example(d, e.cat(), e.label()));
        return out;
    }

    @Test
    void poisonedBatchesAreSkippedAndCountedAndTheRestTrainsAsIfTheyWereNotThere() throws Exception {
        List<Example> clean = examples(6 * BATCH, 2);
        List<Example> data = poisoned(poisoned(clean, 2 * BATCH + 1, Float.NaN), 4 * BATCH + 3, Float.POSITIVE_INFINITY);
        Setup guarded = Setup.of(SPEC.build());
        TrainResult r = guarded.train(data);
        assertEquals(2, r.nonFiniteBatches(), "the NaN batch and the Inf batch");
        assertEquals(6 * BATCH, r.examples(), "skipped batches still count as examples seen");
        assertTrue(Double.isFinite(r.trainLoss()), "the loss of the trained batches: " + r.trainLoss());

        List<Example> without = new ArrayList<>(clean);
        without.subList(4 * BATCH, 5 * BATCH).clear();
        without.subList(2 * BATCH, 3 * BATCH).clear();
        Setup reference = Setup.of(SPEC.build());
        TrainResult ref = reference.train(without);
        assertEquals(0, ref.nonFiniteBatches());
        assertSameModel(reference, guarded);
        assertEquals(ref.trainLoss(), r.trainLoss(), "the mean loss is over the trained examples only");
    }

    @Test
    void whenEveryBatchIsPoisonedNothingChanges() throws Exception {
        List<Example> data = examples(3 * BATCH, 3);
        for (int b = 0; b < 3; b++) data = poisoned(data, b * BATCH, b == 1 ? Float.NEGATIVE_INFINITY : Float.NaN);
        Setup s = Setup.of(SPEC.build());
        float[] dense = s.dense();
        float[][] tables = s.tables();
        TrainResult r = s.train(data);
        assertEquals(3, r.nonFiniteBatches());
        assertBitIdentical(dense, s.model().dense().data(), "dense replica");
        for (int t = 0; t < tables.length; t++) assertBitIdentical(tables[t], s.store().table(t), "table " + t);
    }

    /** A poisoned parameter (the logit's bias, the last dense value) makes every loss NaN: nothing moves, all count. */
    @Test
    void aPoisonedParameterSkipsEveryStepAndChangesNothing() throws Exception {
        Setup s = Setup.of(SPEC.build());
        float[] p = s.model().dense().data();
        p[p.length - 1] = Float.NaN;
        float[] dense = s.dense();
        float[][] tables = s.tables();
        TrainResult r = s.train(examples(3 * BATCH, 7));
        assertEquals(3, r.nonFiniteBatches());
        assertTrue(Double.isNaN(r.trainLoss()), "no batch was trained on: " + r.trainLoss());
        assertBitIdentical(dense, s.model().dense().data(), "dense replica");
        for (int t = 0; t < tables.length; t++) assertBitIdentical(tables[t], s.store().table(t), "table " + t);
    }

    /**
     * A parameter gone NaN makes every batch non-finite: after K of them in a row the job stops with a
     * NonFiniteException naming the trainer and worker (caught: a guard that only counts, or that resets the streak on
     * a skipped batch, trains on with a garbage model); K = 0 only counts; batches that alternate never stop it.
     */
    @Test
    void kNonFiniteBatchesInARowStopTheTrainerAndFewerDoNot() throws Exception {
        Setup s = Setup.of(SPEC.build());
        float[] p = s.model().dense().data();
        p[p.length - 1] = Float.NaN;
        TrainerConfig k4 = new TrainerConfig(1, BATCH, 0, 1, DataSplit.ROUND_ROBIN, 3, 2, 1000, false, 4);
        TrainingException e = org.junit.jupiter.api.Assertions.assertThrows(TrainingException.class,
                () -> new Trainer(0, s.model(), s.store(), new Sgd(p.length, 0.05), source(examples(10 * BATCH, 7)), k4).run());
        assertTrue(e.getCause() instanceof io.shadowsync.sync.NonFiniteException, "cause: " + e.getCause());
        assertTrue(e.getMessage().contains("trainer 0, worker 0: 4 non-finite batches in a row"), e.getMessage());

        TrainerConfig never = new TrainerConfig(1, BATCH, 0, 1, DataSplit.ROUND_ROBIN, 3, 2, 1000, false, 0);
        TrainResult r = new Trainer(0, s.model(), s.store(), new Sgd(p.length, 0.05), source(examples(10 * BATCH, 7)), never).run();
        assertEquals(10, r.nonFiniteBatches(), "K = 0 counts and goes on");

        List<Example> alternating = examples(10 * BATCH, 8);
        for (int b = 0; b < 10; b += 2) alternating = poisoned(alternating, b * BATCH, Float.NaN);
        Setup clean = Setup.of(SPEC.build());
        TrainerConfig k2 = new TrainerConfig(1, BATCH, 0, 1, DataSplit.ROUND_ROBIN, 3, 2, 1000, false, 2);
        r = new Trainer(0, clean.model(), clean.store(), new Sgd(clean.model().dense().size(), 0.05), source(alternating), k2).run();
        assertEquals(5, r.nonFiniteBatches(), "every other batch: never 2 in a row");
    }

    /** Without non-finite values the guard changes nothing: same bits as pushing straight into the store. */
    @Test
    void aCleanRunIsBitIdenticalToPushingStraightIntoTheStore() throws Exception {
        List<Example> data = examples(5 * BATCH, 4);
        Setup guarded = Setup.of(SPEC.build());
        TrainResult r = guarded.train(data);
        assertEquals(0, r.nonFiniteBatches());

        Setup direct = Setup.of(SPEC.build());
        Sgd sgd = new Sgd(direct.model().dense().size(), 0.05);
        Workspace ws = direct.model().newWorkspace(BATCH);
        Batch b = new Batch(BATCH, SPEC.numDense(), SPEC.numCat(), false);
        for (int start = 0; start < data.size(); start += BATCH) {
            b.clear();
            for (Example e : data.subList(start, start + BATCH)) {
                System.arraycopy(e.dense(), 0, b.dense, b.size * b.numDense, b.numDense);
                System.arraycopy(e.cat(), 0, b.cat, b.size * b.numCat, b.numCat);
                b.labels[b.size++] = e.label();
            }
            direct.model().forwardBackward(b, ws, direct.store());
            sgd.step(direct.model().dense().data(), ws.denseGrad(), direct.model().dense().size());
        }
        assertSameModel(direct, guarded);
    }

    /** Delegates to DLRM, then spoils one thing in chosen calls: an embedding-gradient row or the dense gradient. */
    static final class Spoiler extends ForwardingModel {
        final boolean rows;
        final int spoilCall;
        int calls;

        Spoiler(Model inner, boolean rows, int spoilCall) {
            super(inner);
            this.rows = rows;
            this.spoilCall = spoilCall;
        }

        @Override
        public double forwardBackward(Batch batch, Workspace ws, EmbeddingStore emb) {
            double loss = inner.forwardBackward(batch, ws, emb);
            if (calls++ == spoilCall) {
                if (rows) {
                    float[] g = new float[emb.dim(1) * 2];
                    g[g.length - 1] = Float.POSITIVE_INFINITY; // an overflowed gradient of the second row pushed
                    emb.push(1, new int[] {3, 7}, 0, 2, g, 0);
                } else {
                    ws.denseGrad()[ws.denseGrad().length / 2] = Float.NaN;
                }
            }
            return loss;
        }
    }

    /** A finite loss with one infinite embedding-gradient row, or with a NaN in the dense gradient: the whole step goes. */
    @Test
    void aNonFiniteEmbeddingRowOrDenseGradientAloneSkipsTheWholeStep() throws Exception {
        List<Example> data = examples(4 * BATCH, 5);
        List<Example> without = new ArrayList<>(data);
        without.subList(BATCH, 2 * BATCH).clear();
        Setup reference = Setup.of(SPEC.build());
        reference.train(without);
        for (boolean rows : new boolean[] {true, false}) {
            Setup spoiled = Setup.of(new Spoiler(SPEC.build(), rows, 1));
            TrainResult r = spoiled.train(data);
            assertEquals(1, r.nonFiniteBatches(), rows ? "embedding row" : "dense gradient");
            assertTrue(Double.isFinite(r.trainLoss()));
            assertSameModel(reference, spoiled);
        }
    }

    /** Every push call an EmbeddingStore received, in order. */
    static final class CallLog implements EmbeddingStore {
        final List<String> calls = new ArrayList<>();

        @Override
        public int numTables() {
            return 3;
        }

        @Override
        public long rows(int table) {
            return 1000;
        }

        @Override
        public int dim(int table) {
            return table + 1;
        }

        @Override
        public void pull(int table, int[] ids, int idOff, int n, float[] out, int outOff) {
            Arrays.fill(out, outOff, outOff + n * dim(table), table);
        }

        @Override
        public void push(int table, int[] ids, int idOff, int n, float[] grads, int gradOff) {
            calls.add(table + " " + Arrays.toString(Arrays.copyOfRange(ids, idOff, idOff + n)) + " "
                    + Arrays.toString(Arrays.copyOfRange(grads, gradOff, gradOff + n * dim(table))));
        }
    }

    @Test
    void heldPushesReplayCallForCallAndGrowPastTheirFirstBuffers() {
        CallLog direct = new CallLog(), store = new CallLog();
        DeferredPushes held = new DeferredPushes(store);
        SplittableRandom r = new SplittableRandom(6);
        for (int c = 0; c < 100; c++) { // 100 calls, ~5,000 ids, ~10,000 floats: past every initial buffer
            int table = r.nextInt(3), n = r.nextInt(100), off = r.nextInt(5);
            int[] ids = new int[off + n];
            float[] g = new float[off * 3 + n * (table + 1)];
            for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(1000);
            for (int i = 0; i < g.length; i++) g[i] = (float) r.nextGaussian();
            direct.push(table, ids, off, n, g, off * 3);
            held.push(table, ids, off, n, g, off * 3);
            Arrays.fill(g, Float.NaN); // the model reuses its buffer: the held copy must not change
        }
        assertTrue(store.calls.isEmpty(), "nothing reaches the store before commit");
        assertTrue(held.allFinite());
        assertEquals(100, held.heldCalls());
        held.commit();
        assertEquals(direct.calls, store.calls);
        assertEquals(0, held.heldCalls());

        held.push(0, new int[] {1}, 0, 1, new float[] {Float.NaN}, 0);
        assertFalse(held.allFinite());
        held.discard();
        held.commit();
        assertEquals(100, store.calls.size(), "a discarded push never reaches the store");
        assertTrue(held.allFinite(), "a discard forgets the NaN");
    }

    /** Two finite gradients whose weighted sum overflows: synchronous SGD skips the step and counts it. */
    @Test
    void syncSgdSkipsAnOverflowingSumAndCountsIt() throws Exception {
        Collective[] ranks = InProcessCollectives.create(2, LinkModel.NONE, java.time.Duration.ofSeconds(20));
        float[] params = {1f, 2f, 3f};
        SyncStats stats = new SyncStats();
        SyncSgdStep step = new SyncSgdStep(ranks, new Sgd(3, 0.1), params, stats);
        float[] huge = {3e38f, 1f, 1f};
        Thread other = new Thread(() -> {
            try {
                step.apply(1, params, huge, 1);
                step.finish(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "worker-1");
        other.start();
        step.apply(0, params, huge, 1);
        step.finish(0);
        other.join(10_000);
        assertFalse(other.isAlive());
        assertArrayEquals(new float[] {1f, 2f, 3f}, params, "the overflowed step was not applied");
        assertEquals(1, stats.skippedSteps());

        float[] small = {1f, 1f, 1f};
        Thread again = new Thread(() -> {
            try {
                step.apply(1, params, small, 1);
                step.finish(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "worker-1");
        again.start();
        step.apply(0, params, small, 1);
        step.finish(0);
        again.join(10_000);
        assertArrayEquals(new float[] {0.9f, 1.9f, 2.9f}, params, 1e-6f, "a finite step is applied");
        assertEquals(1, stats.skippedSteps());
    }

    /**
     * A worker's gradient already weighs each example by 1/batch-size (a partial batch's is smaller): synchronous SGD
     * averages the workers' gradients as they come. Weighting them again by their example counts, as when gradients were
     * means over the examples held, would give (4·1 + 1·3) / 5 = 1.4 instead of 2.
     */
    @Test
    void syncSgdAveragesTheWorkersGradientsWithoutWeightingThemAgain() throws Exception {
        Collective[] ranks = InProcessCollectives.create(2, LinkModel.NONE, java.time.Duration.ofSeconds(20));
        float[] params = {1f, 2f, 3f};
        SyncSgdStep step = new SyncSgdStep(ranks, new Sgd(3, 0.1), params, new SyncStats());
        Thread other = new Thread(() -> {
            try {
                step.apply(1, params, new float[] {3f, 3f, 3f}, 1); // a partial batch of one example
                step.finish(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "worker-1");
        other.start();
        step.apply(0, params, new float[] {1f, 1f, 1f}, 4);
        step.finish(0);
        other.join(10_000);
        assertFalse(other.isAlive());
        assertArrayEquals(new float[] {0.8f, 1.8f, 2.8f}, params, 1e-6f, "one step on the mean gradient 2");
    }
}
