package io.shadowsync.optim;

/**
 * Applies one gradient row to one embedding row, in place: the sparse optimizer of an embedding table,
 * touching only the rows a batch used. Called concurrently by Hogwild workers without locks.
 */
public interface RowOptimizer {
    /** table[rowOff .. rowOff+dim) ← update(grad[gOff .. gOff+dim)); row is the row index (for per-row state). */
    void applyRow(float[] table, int rowOff, int dim, long row, float[] grad, int gOff);

    /**
     * Applies one gradient row per id, in order (a duplicated id is updated twice, one after the other):
     * row {@code ids[idOff + j]} (at {@code id·dim}) gets {@code grads[gOff + j·dim ..]}. Ids must already be
     * checked against the table. The default calls {@link #applyRow} per id; optimizers override it with one
     * loop per table, which keeps the per-row call out of the embedding push (logistic regression pushes 39
     * rows of one float per example).
     */
    default void applyRows(float[] table, int dim, int[] ids, int idOff, int n, float[] grads, int gOff) {
        for (int j = 0; j < n; j++) {
            int id = ids[idOff + j];
            applyRow(table, id * dim, dim, id, grads, gOff + j * dim);
        }
    }

    /** Per-row state (row-wise Adagrad: one accumulator per row), for checkpoints; null when stateless. */
    float[] state();
}
