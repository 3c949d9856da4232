package io.shadowsync.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class EmbeddingBagTest {
    static final int ROWS = 7, DIM = 3;
    // three bags: {1, 4, 1}, {} (empty), {6, 0}; id 1 repeats inside a bag
    static final int[] IDS = {1, 4, 1, 6, 0};
    static final int[] OFFSETS = {0, 3, 3, 5};
    static final float[] WEIGHTS = {0.5f, -2f, 1.5f, 3f, 0.25f};

    RecordingEmbeddingStore store() {
        return new RecordingEmbeddingStore(new long[][] {{2, 1}, {ROWS, DIM}}).randomize(1f, 3);
    }

    void check(boolean mean, float[] weights) {
        RecordingEmbeddingStore st = store();
        EmbeddingBag bag = new EmbeddingBag(1, DIM, mean);
        float[] rows = new float[IDS.length * DIM];
        float[] out = new float[3 * DIM + 2];
        float[] c = GradCheck.random(3 * DIM, 8, 1.0);
        DoubleSupplier loss = () -> {
            bag.forward(st, IDS, weights, OFFSETS, 3, rows, out, 2);
            return GradCheck.weightedSum(c, out, 2, 3 * DIM);
        };
        loss.getAsDouble();
        for (int d = 0; d < DIM; d++) assertEquals(0f, out[2 + DIM + d], "an empty bag pools to zero");
        bag.backward(st, IDS, weights, OFFSETS, 3, c, new float[IDS.length * DIM]);
        assertEquals(1, st.pushes);
        GradCheck.check("table (mean=" + mean + ", weighted=" + (weights != null) + ")", st.grad[1], 0, st.table[1], 0, ROWS * DIM, loss);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        check(false, null);
        check(false, WEIGHTS);
        check(true, null);
        check(true, WEIGHTS);
    }

    @Test
    void weightedMeanPoolsAsDefined() {
        RecordingEmbeddingStore st = store();
        EmbeddingBag bag = new EmbeddingBag(1, DIM, true);
        float[] out = new float[3 * DIM];
        bag.forward(st, IDS, WEIGHTS, OFFSETS, 3, new float[IDS.length * DIM], out, 0);
        float[] t = st.table[1];
        float[] want = new float[DIM];
        for (int d = 0; d < DIM; d++) want[d] = (3f * t[6 * DIM + d] + 0.25f * t[d]) / 2f;
        assertArrayEquals(want, java.util.Arrays.copyOfRange(out, 2 * DIM, 3 * DIM), 1e-6f);
    }

    @Test
    void refusesATableOfAnotherDim() {
        EmbeddingBag bag = new EmbeddingBag(0, DIM, false);
        assertThrows(IllegalArgumentException.class,
                () -> bag.forward(store(), IDS, null, OFFSETS, 3, new float[IDS.length * DIM], new float[3 * DIM], 0));
    }
}
