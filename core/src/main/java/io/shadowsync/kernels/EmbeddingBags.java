package io.shadowsync.kernels;

import java.util.Arrays;

/**
 * Embedding-bag gather (sum or mean pooling) and scatter-add of row gradients.
 *
 * <p>A table is a row-major {@code [rows×dim]} float[] (row r at {@code r·dim}). A batch of bags is given in
 * CSR form: bag b owns ids {@code ids[offsets[b] .. offsets[b+1])}, optionally weighted by
 * {@code weights} (null = all 1). Output {@code out} is {@code [bags×dim]}.
 *
 * <p>Rows are added with {@link Vec#axpy} (Vector API when present), in id order, so results do not depend on
 * whether SIMD is on; {@code dim == 1} (logistic regression's weights) has its own loop without the per-row call.
 * Nothing is allocated. An id outside the table fails with an {@link IndexOutOfBoundsException}.
 *
 * <p>Sharing: gather reads the table while Hogwild workers may be writing it (racy reads on purpose);
 * scatterAdd writes table rows without locks: two threads adding into the same row can lose an update,
 * which Hogwild accepts.
 */
public final class EmbeddingBags {
    private EmbeddingBags() {}

    /** out[b] = Σ_j w_j · table[ids[j]] (mean: divided by the bag size; an empty bag gives zeros). */
    public static void gather(float[] out, float[] table, int dim, int[] ids, float[] weights,
                              int[] offsets, int bags, boolean mean) {
        if (dim == 1) {
            gatherDim1(out, table, ids, weights, offsets, bags, mean);
            return;
        }
        for (int b = 0; b < bags; b++) {
            int o = b * dim;
            int lo = offsets[b], hi = offsets[b + 1];
            if (hi <= lo) {
                Arrays.fill(out, o, o + dim, 0f);
                continue;
            }
            // the first row is copied (scaled), not added to zeros: one pass over out less per bag
            Vec.scaleInto(dim, weights == null ? 1f : weights[lo], table, ids[lo] * dim, out, o);
            for (int j = lo + 1; j < hi; j++) {
                Vec.axpy(dim, weights == null ? 1f : weights[j], table, ids[j] * dim, out, o);
            }
            if (mean && hi - lo > 1) Vec.scale(dim, 1f / (hi - lo), out, o);
        }
    }

    // gather with dim = 1: one float per id, summed in a register
    private static void gatherDim1(float[] out, float[] table, int[] ids, float[] weights,
                                   int[] offsets, int bags, boolean mean) {
        for (int b = 0; b < bags; b++) {
            int lo = offsets[b], hi = offsets[b + 1];
            float s = 0f;
            if (weights == null) {
                for (int j = lo; j < hi; j++) s += table[ids[j]];
            } else {
                for (int j = lo; j < hi; j++) s += weights[j] * table[ids[j]];
            }
            out[b] = mean && hi - lo > 1 ? s * (1f / (hi - lo)) : s;
        }
    }

    /**
     * Gradient of {@link #gather} with respect to the rows it read: for every id j of bag b,
     * {@code rowGrads[j] = w_j · dout[b]} (divided by the bag size for mean). {@code rowGrads} is
     * {@code [ids×dim]}, one row per id occurrence (duplicates are not merged).
     */
    public static void gatherBackward(float[] rowGrads, float[] dout, int dim, float[] weights,
                                      int[] offsets, int bags, boolean mean) {
        for (int b = 0; b < bags; b++) {
            int lo = offsets[b], hi = offsets[b + 1];
            float s = mean && hi > lo ? 1f / (hi - lo) : 1f;
            for (int j = lo; j < hi; j++) {
                float w = (weights == null ? 1f : weights[j]) * s;
                if (dim == 1) rowGrads[j] = w * dout[b];
                else Vec.scaleInto(dim, w, dout, b * dim, rowGrads, j * dim);
            }
        }
    }

    /** {@code table[ids[j]] += alpha · rowGrads[j]} for j in [0, n): plain SGD-style scatter-add. */
    public static void scatterAdd(float[] table, int dim, int[] ids, int n, float[] rowGrads, float alpha) {
        if (dim == 1) {
            for (int j = 0; j < n; j++) table[ids[j]] += alpha * rowGrads[j];
            return;
        }
        for (int j = 0; j < n; j++) Vec.axpy(dim, alpha, rowGrads, j * dim, table, ids[j] * dim);
    }
}
