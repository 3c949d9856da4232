package io.shadowsync.kernels;

import static io.shadowsync.kernels.KernelChecks.ULP1;
import static io.shadowsync.kernels.KernelChecks.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * gather, gatherBackward and scatterAdd against reference loops in double, on random bags (empty bags,
 * single ids, repeated ids), with and without weights, sum and mean, at dims around the vector width.
 * Tolerance: (bag size + 2)·2⁻²³ of the sum of absolute terms.
 */
class EmbeddingBagsTest {
    private static final int[] DIMS = {1, 2, 7, 8, 16, 17};
    private static final int ROWS = 11;

    private final SplittableRandom random = new SplittableRandom(8);

    /** CSR bags: sizes 0..5 (so some are empty), ids drawn from few rows (so some repeat). */
    private record Bags(int[] ids, int[] offsets, float[] weights, int count) {}

    private Bags randomBags(int count, boolean weighted) {
        int[] offsets = new int[count + 1];
        for (int b = 0; b < count; b++) offsets[b + 1] = offsets[b] + random.nextInt(6);
        int nnz = offsets[count];
        int[] ids = new int[nnz];
        for (int j = 0; j < nnz; j++) ids[j] = random.nextInt(ROWS);
        float[] weights = weighted ? KernelChecks.randomArray(random, nnz) : null;
        return new Bags(ids, offsets, weights, count);
    }

    @Test
    void gatherMatchesTheReference() {
        for (int dim : DIMS) {
            for (int pass = 0; pass < 4; pass++) {
                boolean weighted = (pass & 1) != 0, mean = (pass & 2) != 0;
                Bags bags = randomBags(9, weighted);
                float[] table = KernelChecks.randomArray(random, ROWS * dim);
                float[] out = KernelChecks.randomArray(random, bags.count() * dim); // stale values must be overwritten
                EmbeddingBags.gather(out, table, dim, bags.ids(), bags.weights(), bags.offsets(), bags.count(), mean);
                for (int b = 0; b < bags.count(); b++) {
                    int lo = bags.offsets()[b], hi = bags.offsets()[b + 1];
                    for (int d = 0; d < dim; d++) {
                        double s = 0, mag = 0;
                        for (int j = lo; j < hi; j++) {
                            double w = bags.weights() == null ? 1 : bags.weights()[j];
                            s += w * table[bags.ids()[j] * dim + d];
                            mag += Math.abs(w * table[bags.ids()[j] * dim + d]);
                        }
                        if (mean && hi > lo) {
                            s /= hi - lo;
                            mag /= hi - lo;
                        }
                        String what = "gather dim=" + dim + " weighted=" + weighted + " mean=" + mean + " bag " + b;
                        if (hi == lo) assertEquals(0f, out[b * dim + d], what + " is empty: zeros");
                        else assertClose(s, out[b * dim + d], mag, (hi - lo + 2) * ULP1, what);
                    }
                }
            }
        }
    }

    @Test
    void gatherBackwardMatchesTheReferenceAndIsTheAdjointOfGather() {
        for (int dim : DIMS) {
            for (int pass = 0; pass < 4; pass++) {
                boolean weighted = (pass & 1) != 0, mean = (pass & 2) != 0;
                Bags bags = randomBags(9, weighted);
                int nnz = bags.ids().length;
                float[] dout = KernelChecks.randomArray(random, bags.count() * dim);
                float[] rowGrads = new float[nnz * dim];
                EmbeddingBags.gatherBackward(rowGrads, dout, dim, bags.weights(), bags.offsets(), bags.count(), mean);
                for (int b = 0; b < bags.count(); b++) {
                    int lo = bags.offsets()[b], hi = bags.offsets()[b + 1];
                    for (int j = lo; j < hi; j++) {
                        double w = (bags.weights() == null ? 1 : bags.weights()[j]) / (mean ? (double) (hi - lo) : 1);
                        for (int d = 0; d < dim; d++) {
                            double expected = w * dout[b * dim + d];
                            assertClose(expected, rowGrads[j * dim + d], Math.abs(expected), 3 * ULP1,
                                    "gatherBackward dim=" + dim + " id " + j);
                        }
                    }
                }
                // <dout, gather(table)> = Σ_j <rowGrads_j, table[ids_j]>: backward is the transpose of forward
                float[] table = KernelChecks.randomArray(random, ROWS * dim);
                float[] out = new float[bags.count() * dim];
                EmbeddingBags.gather(out, table, dim, bags.ids(), bags.weights(), bags.offsets(), bags.count(), mean);
                double lhs = 0, rhs = 0, mag = 0;
                for (int i = 0; i < out.length; i++) lhs += (double) dout[i] * out[i];
                for (int j = 0; j < nnz; j++) {
                    for (int d = 0; d < dim; d++) {
                        double p = (double) rowGrads[j * dim + d] * table[bags.ids()[j] * dim + d];
                        rhs += p;
                        mag += Math.abs(p);
                    }
                }
                assertClose(rhs, (float) lhs, mag, 16 * ULP1, "adjoint identity dim=" + dim);
            }
        }
    }

    @Test
    void scatterAddAccumulatesRepeatedIds() {
        for (int dim : DIMS) {
            int n = 40;
            int[] ids = new int[n];
            for (int j = 0; j < n; j++) ids[j] = random.nextInt(ROWS); // 40 ids over 11 rows: many repeats
            float[] rowGrads = KernelChecks.randomArray(random, n * dim);
            float[] table = KernelChecks.randomArray(random, ROWS * dim);
            double[] expected = new double[table.length], mag = new double[table.length];
            for (int i = 0; i < table.length; i++) {
                expected[i] = table[i];
                mag[i] = Math.abs(table[i]);
            }
            float alpha = -0.1f;
            for (int j = 0; j < n; j++) {
                for (int d = 0; d < dim; d++) {
                    double term = (double) alpha * rowGrads[j * dim + d];
                    expected[ids[j] * dim + d] += term;
                    mag[ids[j] * dim + d] += Math.abs(term);
                }
            }
            EmbeddingBags.scatterAdd(table, dim, ids, n, rowGrads, alpha);
            for (int i = 0; i < table.length; i++) {
                assertClose(expected[i], table[i], mag[i], (n + 2) * ULP1, "scatterAdd dim=" + dim + " element " + i);
            }
        }
    }

    @Test
    void scatterAddOfNoIdsChangesNothingAndGatherOfNoBagsWritesNothing() {
        float[] table = {1, 2, 3, 4};
        EmbeddingBags.scatterAdd(table, 2, new int[] {1}, 0, new float[] {9, 9}, 1f);
        assertEquals(4, table.length);
        KernelChecks.assertSameBits(new float[] {1, 2, 3, 4}, table, "n = 0");
        float[] out = {7f};
        EmbeddingBags.gather(out, table, 2, new int[0], null, new int[] {0}, 0, true);
        assertEquals(7f, out[0], "zero bags: out untouched");
    }

    @Test
    void idsOutsideTheTableFail() {
        float[] table = new float[4 * 16];
        float[] out = new float[16];
        assertThrows(IndexOutOfBoundsException.class,
                () -> EmbeddingBags.gather(out, table, 16, new int[] {4}, null, new int[] {0, 1}, 1, false));
        assertThrows(IndexOutOfBoundsException.class,
                () -> EmbeddingBags.gather(out, table, 16, new int[] {0, -1}, null, new int[] {0, 2}, 1, false));
        assertThrows(IndexOutOfBoundsException.class,
                () -> EmbeddingBags.gather(new float[1], new float[4], 1, new int[] {4}, null, new int[] {0, 1}, 1, true));
        assertThrows(IndexOutOfBoundsException.class,
                () -> EmbeddingBags.scatterAdd(table, 16, new int[] {7}, 1, new float[16], 1f));
    }
}
