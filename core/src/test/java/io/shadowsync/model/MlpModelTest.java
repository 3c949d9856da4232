package io.shadowsync.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.Batch;
import io.shadowsync.nn.RecordingEmbeddingStore;
import io.shadowsync.nn.Workspace;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MlpModelTest {
    static final int IN = 4;
    static final RecordingEmbeddingStore NO_TABLES = new RecordingEmbeddingStore(new long[0][]);

    /** n points in 4-D; label by task: the index of the largest of the first 3 coordinates, its sign rule, or a linear target. */
    static Batch data(int n, String task, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Batch b = new Batch(n, IN, 0, false);
        for (int i = 0; i < n; i++) {
            float[] x = new float[IN];
            for (int f = 0; f < IN; f++) x[f] = (float) (r.nextDouble() * 2 - 1);
            System.arraycopy(x, 0, b.dense, i * IN, IN);
            b.labels[i] = switch (task) {
                case "multiclass" -> x[0] > x[1] ? (x[0] > x[2] ? 0 : 2) : (x[1] > x[2] ? 1 : 2);
                case "binary" -> x[0] + 0.5f * x[1] - x[3] > 0 ? 1 : 0;
                default -> 0.5f * x[0] - x[2] + 0.25f;
            };
            b.size = i + 1;
        }
        return b;
    }

    static MlpSpec spec(String task, String act) {
        return new MlpSpec(IN, new int[] {6, 5}, task.equals("multiclass") ? 3 : 1, act, task);
    }

    @Test
    void gradientsMatchFiniteDifferencesForEveryTask() {
        for (String task : new String[] {"multiclass", "binary", "regression"}) {
            for (String act : new String[] {"tanh", "relu", "sigmoid"}) {
                MlpModel m = spec(task, act).build();
                m.initDense(5);
                ModelCheck.jitter(m, 8);
                ModelCheck.gradients(m, data(7, task, 1), NO_TABLES, 1000, 0);
                ModelCheck.emptyBatch(m, data(3, task, 1), NO_TABLES);
            }
        }
    }

    @Test
    void aPartialBatchWeighsItsExamplesAsAFullOneForEveryTask() {
        for (String task : new String[] {"multiclass", "binary", "regression"}) {
            MlpModel m = spec(task, "relu").build();
            m.initDense(5);
            ModelCheck.jitter(m, 8);
            ModelCheck.partialBatchesAddUp(m, data(9, task, 1), NO_TABLES, 1);
        }
    }

    @Test
    void sgdFitsEachTask() {
        for (String task : new String[] {"multiclass", "binary", "regression"}) {
            MlpModel m = new MlpSpec(IN, new int[] {16}, task.equals("multiclass") ? 3 : 1, "tanh", task).build();
            m.initDense(7);
            Batch b = data(128, task, 2);
            double[] l = ModelCheck.train(m, b, NO_TABLES, 0.5f, 300);
            assertTrue(l[1] < 0.35 * l[0], task + ": loss went from " + l[0] + " to " + l[1]);
        }
    }

    @Test
    void outputsAreProbabilitiesOrPredictions() {
        MlpModel m = spec("multiclass", "relu").build();
        m.initDense(3);
        Batch b = data(5, "multiclass", 3);
        Workspace ws = m.newWorkspace(8);
        m.forward(b, ws, NO_TABLES);
        assertEquals(3, m.outputsPerExample());
        for (int i = 0; i < 5; i++) {
            float s = 0;
            for (int c = 0; c < 3; c++) s += ws.outputs()[i * 3 + c];
            assertEquals(1f, s, 1e-5f);
        }
        MlpModel reg = spec("regression", "relu").build();
        reg.initDense(3);
        Workspace rws = reg.newWorkspace(5);
        double loss = reg.forward(data(5, "regression", 3), rws, NO_TABLES);
        Batch rb = data(5, "regression", 3);
        double want = 0;
        for (int i = 0; i < 5; i++) want += Math.pow(rws.outputs()[i] - rb.labels[i], 2);
        assertEquals(want, loss, 1e-5);
    }

    @Test
    void peerShapeHasThePeersParameterCount() {
        MlpModel m = MlpSpec.fashionMnist().build();
        assertEquals(784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10, m.dense().size());
        assertEquals(0, m.embeddingShapes().length);
    }
}
