package io.shadowsync.optim;

import io.shadowsync.kernels.Vec;

/**
 * Plain SGD on one embedding row: {@code w_r = w_r − lr·g_r}. Stateless.
 *
 * <p>Sharing contract: called by Hogwild workers concurrently without locks; two pushes to the same row may
 * interleave and one may lose part of its update (the Hogwild race, intended).
 */
public final class RowSgd implements RowOptimizer {
    private final float lr;

    public RowSgd(double lr) {
        this.lr = Args.positiveFinite("embedding SGD learning rate", lr);
    }

    @Override
    public void applyRow(float[] table, int rowOff, int dim, long row, float[] grad, int gOff) {
        final float lr = this.lr;
        for (int j = 0; j < dim; j++) table[rowOff + j] -= lr * grad[gOff + j];
    }

    /**
     * One loop per table; rows of 8 floats or more go through {@link Vec#axpy} (SIMD when present), whose
     * {@code w + g·(−lr)} has the same bits as {@code w − lr·g}: negating a product and adding its negation are
     * exact.
     */
    @Override
    public void applyRows(float[] table, int dim, int[] ids, int idOff, int n, float[] grads, int gOff) {
        final float lr = this.lr;
        if (dim == 1) {
            for (int j = 0; j < n; j++) table[ids[idOff + j]] -= lr * grads[gOff + j];
        } else if (dim >= 8) {
            for (int j = 0; j < n; j++) Vec.axpy(dim, -lr, grads, gOff + j * dim, table, ids[idOff + j] * dim);
        } else {
            for (int j = 0; j < n; j++) {
                int row = ids[idOff + j] * dim, g = gOff + j * dim;
                for (int k = 0; k < dim; k++) table[row + k] -= lr * grads[g + k];
            }
        }
    }

    /** Null: plain SGD keeps no state. */
    @Override
    public float[] state() {
        return null;
    }

    public double lr() {
        return lr;
    }
}
