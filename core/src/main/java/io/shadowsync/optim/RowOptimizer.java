package io.shadowsync.optim;

/**
 * Applies one gradient row to one embedding row, in place: the sparse optimizer of an embedding table,
 * touching only the rows a batch used. Called concurrently by Hogwild workers without locks.
 */
public interface RowOptimizer {
    /** table[rowOff .. rowOff+dim) ← update(grad[gOff .. gOff+dim)); row is the row index (for per-row state). */
    void applyRow(float[] table, int rowOff, int dim, long row, float[] grad, int gOff);

    /** Per-row state (row-wise Adagrad: one accumulator per row), for checkpoints; null when stateless. */
    float[] state();
}
