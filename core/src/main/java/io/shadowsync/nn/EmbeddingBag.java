package io.shadowsync.nn;

import io.shadowsync.kernels.EmbeddingBags;
import io.shadowsync.kernels.Vec;

/**
 * Embedding bag over one table of an {@link EmbeddingStore}: pulls the rows of a batch's ids into the
 * workspace, pools them per bag (sum or mean, optionally weighted per id), and on backward pushes one gradient
 * row per id occurrence to the store, whose sparse optimizer applies it.
 *
 * <p>Bags are in CSR form: bag b owns ids {@code ids[offsets[b] .. offsets[b+1])} with {@code offsets[0] = 0};
 * {@code weights} (null = all 1) has one weight per id. Immutable; shared by workers.
 */
public final class EmbeddingBag {
    public final int table;
    public final int dim;
    public final boolean mean;

    public EmbeddingBag(int table, int dim, boolean mean) {
        if (table < 0 || dim < 1) throw new IllegalArgumentException("embedding bag needs a table index ≥ 0 and dim ≥ 1, got table=" + table + " dim=" + dim);
        this.table = table;
        this.dim = dim;
        this.mean = mean;
    }

    // rows[n×dim] = store rows of ids[0..n), n = offsets[bags];  out[bags×dim] = Σ_j w_j·rows[j] (÷ bag size for mean)
    public void forward(EmbeddingStore store, int[] ids, float[] weights, int[] offsets, int bags,
                        float[] rows, float[] out, int outOff) {
        checkStore(store, offsets);
        int n = offsets[bags];
        store.pull(table, ids, 0, n, rows, 0);
        for (int b = 0; b < bags; b++) {
            int o = outOff + b * dim;
            int lo = offsets[b], hi = offsets[b + 1];
            if (dim == 1) {
                float s = 0f;
                for (int j = lo; j < hi; j++) s += (weights == null ? 1f : weights[j]) * rows[j];
                out[o] = mean && hi > lo ? s / (hi - lo) : s;
                continue;
            }
            for (int d = 0; d < dim; d++) out[o + d] = 0f;
            for (int j = lo; j < hi; j++) Vec.axpy(dim, weights == null ? 1f : weights[j], rows, j * dim, out, o);
            if (mean && hi > lo) Vec.scale(dim, 1f / (hi - lo), out, o);
        }
    }

    /**
     * Backward of {@link #forward}: {@code rowGrads[j] = w_j · dout[b]} (÷ bag size for mean) for every id j of
     * bag b, then pushes them to the store. {@code dout} is {@code [bags×dim]} from offset 0.
     */
    // rowGrads[n×dim] from dout[bags×dim]; pushed to the store
    public void backward(EmbeddingStore store, int[] ids, float[] weights, int[] offsets, int bags,
                         float[] dout, float[] rowGrads) {
        checkStore(store, offsets);
        EmbeddingBags.gatherBackward(rowGrads, dout, dim, weights, offsets, bags, mean);
        store.push(table, ids, 0, offsets[bags], rowGrads, 0);
    }

    private void checkStore(EmbeddingStore store, int[] offsets) {
        if (offsets[0] != 0) throw new IllegalArgumentException("bag offsets must start at 0, got " + offsets[0]);
        if (store.numTables() <= table || store.dim(table) != dim) {
            throw new IllegalArgumentException("embedding store has no table " + table + " of dim " + dim);
        }
    }
}
