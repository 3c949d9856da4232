package io.shadowsync.kernels;

/**
 * Embedding-bag gather (sum or mean pooling) and scatter-add of row gradients.
 *
 * <p>A table is a row-major {@code [rows×dim]} float[] (row r at {@code r·dim}). A batch of bags is given in
 * CSR form: bag b owns ids {@code ids[offsets[b] .. offsets[b+1])}, optionally weighted by
 * {@code weights} (null = all 1). Output {@code out} is {@code [bags×dim]}.
 */
public final class EmbeddingBags {
    private EmbeddingBags() {}

    /** out[b] = Σ_j w_j · table[ids[j]] (mean: divided by the bag size; an empty bag gives zeros). */
    public static void gather(float[] out, float[] table, int dim, int[] ids, float[] weights,
                              int[] offsets, int bags, boolean mean) {
        for (int b = 0; b < bags; b++) {
            int o = b * dim;
            for (int d = 0; d < dim; d++) out[o + d] = 0f;
            int lo = offsets[b], hi = offsets[b + 1];
            for (int j = lo; j < hi; j++) {
                float w = weights == null ? 1f : weights[j];
                Vec.axpy(dim, w, table, ids[j] * dim, out, o);
            }
            if (mean && hi > lo) Vec.scale(dim, 1f / (hi - lo), out, o);
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
                for (int d = 0; d < dim; d++) rowGrads[j * dim + d] = w * dout[b * dim + d];
            }
        }
    }

    /** {@code table[ids[j]] += alpha · rowGrads[j]} for j in [0, n): plain SGD-style scatter-add. */
    public static void scatterAdd(float[] table, int dim, int[] ids, int n, float[] rowGrads, float alpha) {
        for (int j = 0; j < n; j++) Vec.axpy(dim, alpha, rowGrads, j * dim, table, ids[j] * dim);
    }
}
