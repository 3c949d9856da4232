package io.shadowsync.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.shadowsync.data.Batch;
import io.shadowsync.nn.MlpStack;
import io.shadowsync.nn.Model;
import io.shadowsync.nn.RecordingEmbeddingStore;
import io.shadowsync.nn.Workspace;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Activation checkpointing ({@code --recompute-every k}): the MLP stacks keep every k-th hidden activation and
 * recompute the others in backward. The gradients must be those of k = 1 bit for bit — the recomputation runs the
 * same kernels on the same inputs — and the workspace must hold fewer activations.
 */
class ActivationCheckpointTest {
    /** Hidden widths that differ from layer to layer, so that a layer recomputed into the wrong buffer, from the wrong
     * input or with a stale one shows in the gradients. */
    static final int[] HIDDEN = {9, 6, 11, 7, 10, 5, 8};

    static Batch mlpData(int n, int inputs, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Batch b = new Batch(n, inputs, 0, false);
        for (int i = 0; i < n; i++) {
            for (int f = 0; f < inputs; f++) b.dense[i * inputs + f] = (float) r.nextGaussian();
            b.labels[i] = r.nextInt(classes);
            b.size = i + 1;
        }
        return b;
    }

    /**
     * Two different batches in a row through one workspace per k: every gradient, loss and output equals the k = 1
     * workspace's exactly, for k = 1..4 and k past the depth (nothing kept). The second batch catches a recomputation
     * skipped because the segment buffers still held the first batch's values (a stale input).
     */
    @Test
    void mlpGradientsAreBitEqual() {
        MlpModel m = new MlpSpec(4, HIDDEN, 3, "tanh", "multiclass").build();
        m.initDense(5);
        ModelCheck.jitter(m, 6);
        Batch[] batches = {mlpData(13, 4, 3, 1), mlpData(13, 4, 3, 2)};
        float[][] want = new float[2][];
        double[] wantLoss = new double[2];
        Workspace ref = m.newWorkspace(16);
        for (int b = 0; b < 2; b++) {
            wantLoss[b] = m.forwardBackward(batches[b], ref, null);
            want[b] = ref.denseGrad().clone();
        }
        for (int k : new int[] {1, 2, 3, 4, 9}) {
            Workspace ws = m.newWorkspace(16, k);
            for (int b = 0; b < 2; b++) {
                double loss = m.forwardBackward(batches[b], ws, null);
                assertEquals(wantLoss[b], loss, 0.0, "k=" + k);
                assertArrayEquals(want[b], ws.denseGrad(), 0f, "k=" + k + ", batch " + b);
            }
        }
    }

    /** Batch 2 after an evaluation-only forward of another batch: backward recomputes from the inputs it is given. */
    @Test
    void recomputationFollowsTheLatestForward() {
        MlpModel m = new MlpSpec(4, HIDDEN, 3, "relu", "multiclass").build();
        m.initDense(7);
        Batch a = mlpData(8, 4, 3, 3), b = mlpData(8, 4, 3, 4);
        Workspace ref = m.newWorkspace(8);
        m.forwardBackward(b, ref, null);
        Workspace ws = m.newWorkspace(8, 3);
        m.forward(a, ws, null);
        m.forwardBackward(b, ws, null);
        assertArrayEquals(ref.denseGrad(), ws.denseGrad(), 0f);
    }

    /** DLRM with deep bottom and top stacks (the top one reads its input transposed): the same, k = 1..4. */
    @Test
    void dlrmGradientsAreBitEqual() {
        Dlrm m = new DlrmSpec(3, 4, 11, 5, new int[] {7, 9, 6, 8, 4}, new int[] {6, 10, 5, 7, 9}).build();
        m.initDense(3);
        ModelCheck.jitter(m, 8);
        Batch[] batches = {DlrmTest.data(12, 5), DlrmTest.data(12, 6)};
        float[][] want = new float[2][];
        double[] wantLoss = new double[2];
        Workspace ref = m.newWorkspace(12);
        RecordingEmbeddingStore st0 = new RecordingEmbeddingStore(m.embeddingShapes()).randomize(0.5f, 4);
        for (int b = 0; b < 2; b++) {
            wantLoss[b] = m.forwardBackward(batches[b], ref, st0);
            want[b] = ref.denseGrad().clone();
        }
        for (int k : new int[] {1, 2, 3, 4}) {
            Workspace ws = m.newWorkspace(12, k);
            RecordingEmbeddingStore st = new RecordingEmbeddingStore(m.embeddingShapes()).randomize(0.5f, 4);
            for (int b = 0; b < 2; b++) {
                assertEquals(wantLoss[b], m.forwardBackward(batches[b], ws, st), 0.0, "k=" + k);
                assertArrayEquals(want[b], ws.denseGrad(), 0f, "k=" + k + ", batch " + b);
            }
        }
    }

    /**
     * The workspace keeps fewer activations, as stated: for 7 hidden layers of 2048 (8 layers), k = 1 keeps 7 outputs,
     * k = 2 keeps 3 plus 1 segment buffer, k = 4 keeps 1 plus 3; per example. Catches a recomputing workspace that
     * still allocates every layer's buffer.
     */
    @Test
    void activationMemoryShrinks() {
        int[] widths = {2048, 2048, 2048, 2048, 2048, 2048, 2048, 2048, 10};
        assertEquals(7 * 2048, MlpStack.activationFloatsPerExample(widths, 1));
        assertEquals(4 * 2048, MlpStack.activationFloatsPerExample(widths, 2));
        assertEquals(4 * 2048, MlpStack.activationFloatsPerExample(widths, 4));
        assertEquals(4 * 2048, MlpStack.activationFloatsPerExample(widths, 3)); // keeps 2, and 2 segment buffers
        MlpModel m = new MlpSpec(4, HIDDEN, 3, "tanh", "multiclass").build();
        long all = m.newWorkspace(10, 1).activationFloats();
        assertEquals(10L * (9 + 6 + 11 + 7 + 10 + 5 + 8), all);
        // k = 2: keeps layers 1, 3, 5 (6, 7, 5); segment buffer: widest of layers 0, 2, 4, 6 (11)
        assertEquals(10L * (6 + 7 + 5 + 11), m.newWorkspace(10, 2).activationFloats());
        int[] w = MlpStack.widths(4, HIDDEN, 3);
        for (int k = 1; k <= 4; k++) assertEquals(10L * MlpStack.activationFloatsPerExample(w, k), m.newWorkspace(10, k).activationFloats());
        assertTrue(m.newWorkspace(10, 3).activationFloats() < all);
        assertThrows(IllegalArgumentException.class, () -> m.newWorkspace(10, 0));
    }
}
