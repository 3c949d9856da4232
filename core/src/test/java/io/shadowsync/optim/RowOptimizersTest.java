package io.shadowsync.optim;

import static io.shadowsync.optim.DenseOptimizersTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RowOptimizersTest {
    /** applyRows must equal applyRow called id by id, duplicates applied one after the other. */
    @Test
    void applyRowsEqualsApplyRowPerIdInOrder() {
        int[] ids = {9, 2, 5, 2, 2, 0};
        for (int dim : new int[] {1, 3, 16, 11}) {
            float[] grads = new float[(ids.length + 2) * dim];
            for (int i = 0; i < grads.length; i++) grads[i] = (float) Math.sin(i + 1);
            RowOptimizer[][] pairs = {{new RowSgd(0.3), new RowSgd(0.3)},
                {new RowwiseAdagrad(0.3, 1e-8, 0.1, 10), new RowwiseAdagrad(0.3, 1e-8, 0.1, 10)}};
            for (RowOptimizer[] p : pairs) {
                float[] a = new float[10 * dim], b = new float[10 * dim];
                for (int i = 0; i < a.length; i++) a[i] = b[i] = i * 0.25f;
                p[0].applyRows(a, dim, ids, 1, 4, grads, 2 * dim);
                for (int j = 0; j < 4; j++) {
                    int id = ids[1 + j];
                    p[1].applyRow(b, id * dim, dim, id, grads, (2 + j) * dim);
                }
                assertArrayEquals(b, a, p[0].getClass().getSimpleName() + " dim " + dim);
                assertEquals(9 * dim * 0.25f, a[9 * dim], "row 9 (before idOff) must stay untouched");
            }
        }
    }

    @Test
    void rowSgdUpdatesOnlyTheGivenRow() {
        float[] table = {1, 1, 2, 2, 3, 3};
        float[] grad = {9, 9, 1, -1, 9, 9};
        new RowSgd(0.5).applyRow(table, 2, 2, 1, grad, 2);
        assertArrayEquals(new float[] {1, 1, 1.5f, 2.5f, 3, 3}, table);
        assertNull(new RowSgd(0.5).state());
    }

    @Test
    void rowwiseAdagradKeepsOneAccumulatorPerRowFromTheMeanSquare() {
        int rows = 4, dim = 3;
        float[] table = new float[rows * dim];
        java.util.Arrays.fill(table, 1f);
        RowwiseAdagrad opt = new RowwiseAdagrad(0.1, 1e-8, 0.5, rows);
        float[] g = {1, 2, 3};
        opt.applyRow(table, 1 * dim, dim, 1, g, 0);
        double g1 = 0.5 + (1 + 4 + 9) / 3.0; // G_1 = init + mean(g²)
        assertEquals(g1, opt.state()[1], 1e-6);
        for (int j = 0; j < dim; j++) assertEquals(1 - 0.1 * g[j] / (Math.sqrt(g1) + 1e-8), table[dim + j], 1e-6);

        float[] h = {0, 0, 3};
        opt.applyRow(table, 3 * dim, dim, 3, h, 0);
        opt.applyRow(table, 3 * dim, dim, 3, h, 0);
        double g3a = 0.5 + 3, g3b = g3a + 3;
        assertEquals(g3b, opt.state()[3], 1e-6);
        assertEquals(1 - 0.3 / Math.sqrt(g3a) - 0.3 / Math.sqrt(g3b), table[3 * dim + 2], 1e-6);
        assertEquals(1f, table[3 * dim], 0f); // zero gradient elements stay

        // rows 0 and 2 were never pushed: values and accumulators untouched
        for (int r : new int[] {0, 2}) {
            assertEquals(0.5f, opt.state()[r], 0f);
            for (int j = 0; j < dim; j++) assertEquals(1f, table[r * dim + j], 0f);
        }
    }

    @Test
    void rowwiseAdagradRefusesARowOutsideItsTable() {
        RowwiseAdagrad opt = new RowwiseAdagrad(0.1, 1e-8, 0, 2);
        assertThrows(IndexOutOfBoundsException.class, () -> opt.applyRow(new float[8], 4, 2, 2, new float[2], 0));
    }

    @Test
    void rowOptimizersRefuseBadArguments() {
        assertMessage("embedding SGD learning rate must be positive and finite, got -0.1", () -> new RowSgd(-0.1));
        assertMessage("row-wise Adagrad eps must be positive and finite, got 0.0", () -> new RowwiseAdagrad(0.1, 0, 0, 10));
        assertMessage("row-wise Adagrad needs 1 to 2^31 - 16 rows (one accumulator each), got 0",
                () -> new RowwiseAdagrad(0.1, 1e-8, 0, 0));
        assertMessage("row-wise Adagrad needs 1 to 2^31 - 16 rows (one accumulator each), got 4294967296",
                () -> new RowwiseAdagrad(0.1, 1e-8, 0, 1L << 32));
    }
}
