package io.shadowsync.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.Batch;
import io.shadowsync.nn.GradCheck;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.ParameterSet;
import io.shadowsync.nn.RecordingEmbeddingStore;
import io.shadowsync.nn.Workspace;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/** Whole-model checks shared by the model tests: finite-difference gradients and a small SGD loop. */
final class ModelCheck {
    private ModelCheck() {}

    /**
     * Checks ws.denseGrad() of forwardBackward against finite differences of the mean loss (forward / B) for at
     * most {@code perTensor} entries of every dense tensor, and the embedding gradients the model pushed (summed
     * per entry by the recording store) for up to {@code perTable} entries of every table, touched or not.
     */
    static void gradients(Model m, Batch batch, RecordingEmbeddingStore st, int perTensor, int perTable) {
        Workspace ws = m.newWorkspace(batch.size + 3); // a workspace larger than the batch must work
        java.util.Arrays.fill(ws.denseGrad(), Float.NaN); // the model must overwrite every entry
        st.clearGrads();
        st.lr = 0;
        double sum = m.forwardBackward(batch, ws, st);
        float[] g = ws.denseGrad().clone();
        Workspace fws = m.newWorkspace(batch.size);
        DoubleSupplier loss = () -> m.forward(batch, fws, st) / batch.size;
        assertEquals(sum / batch.size, loss.getAsDouble(), 1e-6 * Math.abs(sum), "forward and forwardBackward disagree on the loss");
        ParameterSet ps = m.dense();
        for (ParameterSet.View v : ps.views()) {
            GradCheck.checkSample(v.name(), g, v.offset(), ps.data(), v.offset(), v.size(), perTensor, 17, loss);
        }
        for (int t = 0; t < st.numTables(); t++) {
            float[] tg = st.grad[t];
            int touched = 0;
            SplittableRandom r = new SplittableRandom(t);
            for (int i = 0; i < tg.length && touched < perTable; i++) {
                if (tg[i] != 0f) {
                    GradCheck.checkOne("table " + t + "[" + i + "]", tg[i], GradCheck.numeric(st.table[t], i, loss));
                    touched++;
                }
            }
            assertTrue(touched > 0, "no gradient was pushed to table " + t);
            for (int k = 0; k < 5; k++) {
                int i = r.nextInt(tg.length);
                GradCheck.checkOne("table " + t + "[" + i + "]", tg[i], GradCheck.numeric(st.table[t], i, loss));
            }
        }
    }

    /**
     * A partial batch (the end of the data, or of an example budget, seldom fills a batch) weighs each of its examples
     * as a full batch of the same capacity does: cut a full batch into two partial ones of its capacity, and their dense
     * and embedding gradients add up to the full batch's. A model that takes the mean over the examples a batch holds
     * fails: its step on the last few examples of a run is as large as a full batch's, which threw a trained DLRM far off
     * (eval logloss 0.51 to 0.99 after one last step on 2 examples at lr 0.5).
     */
    static void partialBatchesAddUp(Model m, Batch full, RecordingEmbeddingStore st, int cut) {
        if (!full.isFull() || cut <= 0 || cut >= full.size) throw new IllegalArgumentException("cut a full batch inside");
        st.lr = 0;
        float[][] whole = gradients(m, full, st);
        Batch first = new Batch(full.capacity, full.numDense, full.numCat, full.sparseOffsets != null);
        Batch rest = new Batch(full.capacity, full.numDense, full.numCat, full.sparseOffsets != null);
        for (int i = 0; i < full.size; i++) (i < cut ? first : rest).appendFrom(full, i);
        float[][] a = gradients(m, first, st), b = gradients(m, rest, st);
        for (int k = 0; k < whole.length; k++) {
            for (int i = 0; i < whole[k].length; i++) {
                float sum = a[k][i] + b[k][i];
                assertEquals(whole[k][i], sum, 1e-5 * Math.max(1, Math.abs(whole[k][i])),
                        (k == 0 ? "dense gradient [" : "table " + (k - 1) + " gradient [") + i + "]: the parts' gradients "
                                + a[k][i] + " + " + b[k][i] + " should add up to the whole batch's");
            }
        }
    }

    /** The dense gradient, then each table's pushed gradient, of one forwardBackward. */
    private static float[][] gradients(Model m, Batch batch, RecordingEmbeddingStore st) {
        st.clearGrads();
        Workspace ws = m.newWorkspace(batch.capacity);
        m.forwardBackward(batch, ws, st);
        float[][] g = new float[1 + st.numTables()][];
        g[0] = ws.denseGrad().clone();
        for (int t = 0; t < st.numTables(); t++) g[1 + t] = st.grad[t].clone();
        return g;
    }

    /** An empty batch (the end of the data) gives loss 0, an all-zero gradient, and pushes nothing non-zero. */
    static void emptyBatch(Model m, Batch batch, RecordingEmbeddingStore st) {
        int size = batch.size;
        batch.size = 0;
        Workspace ws = m.newWorkspace(4);
        java.util.Arrays.fill(ws.denseGrad(), Float.NaN);
        st.clearGrads();
        assertEquals(0.0, m.forwardBackward(batch, ws, st));
        for (float g : ws.denseGrad()) assertEquals(0f, g);
        for (float[] tg : st.grad) for (float g : tg) assertEquals(0f, g);
        batch.size = size;
    }

    /**
     * Adds U(−0.1, 0.1) noise to every dense parameter. Zero biases can put a ReLU exactly at its kink (a unit
     * whose inputs are all zero), where finite differences see a one-sided slope; noise moves it off.
     */
    static void jitter(Model m, long seed) {
        float[] p = m.dense().data();
        float[] n = GradCheck.random(p.length, seed, 0.1);
        for (int i = 0; i < p.length; i++) p[i] += n[i];
    }

    /** Plain SGD for {@code steps} full-batch steps; returns {first loss, last loss} (mean per example). */
    static double[] train(Model m, Batch batch, RecordingEmbeddingStore st, float lr, int steps) {
        Workspace ws = m.newWorkspace(batch.size);
        st.lr = lr;
        float[] p = m.dense().data();
        double first = 0, last = 0;
        for (int s = 0; s < steps; s++) {
            double l = m.forwardBackward(batch, ws, st) / batch.size;
            if (s == 0) first = l;
            last = l;
            float[] g = ws.denseGrad();
            for (int i = 0; i < p.length; i++) p[i] -= lr * g[i];
        }
        return new double[] {first, last};
    }
}
