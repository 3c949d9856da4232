package io.shadowsync.optim;

import io.shadowsync.kernels.Vec;
import java.util.Arrays;
import java.util.Objects;

/**
 * Row-wise Adagrad for embedding tables, as DLRM and FBGEMM use it: <b>one</b> accumulator per row, not per
 * element, so the optimizer state costs one float per row instead of doubling the table.
 * <pre>
 *   G_r = G_r + mean_j(g_rj²)
 *   w_r = w_r − lr·g_r / (sqrt(G_r) + eps)
 * </pre>
 * A row seen rarely keeps a large step, which is why sparse CTR models train well with it.
 *
 * <p>Sharing contract: called by Hogwild workers concurrently without locks; two pushes to the same row race
 * on {@code G_r} and on the row's values and one may lose part of its update (the Hogwild race, intended).
 * Only the rows pushed are touched.
 */
public final class RowwiseAdagrad implements RowOptimizer {
    private final float lr;
    private final float eps;
    /** G per row, [rows]; racy by design. */
    private final float[] accumulator;

    /**
     * @param lr                 learning rate, positive
     * @param eps                added to sqrt(G_r), positive
     * @param initialAccumulator starting G_r, zero or positive
     * @param rows               rows of the table, at most 2^31 − 16 (one float each)
     */
    public RowwiseAdagrad(double lr, double eps, double initialAccumulator, long rows) {
        this.lr = Args.positiveFinite("row-wise Adagrad learning rate", lr);
        this.eps = Args.positiveFinite("row-wise Adagrad eps", eps);
        float init = Args.nonNegativeFinite("row-wise Adagrad initial accumulator", initialAccumulator);
        if (rows <= 0 || rows > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("row-wise Adagrad needs 1 to 2^31 - 16 rows (one accumulator each), got " + rows);
        }
        this.accumulator = new float[(int) rows];
        if (init != 0f) Arrays.fill(accumulator, init);
    }

    @Override
    public void applyRow(float[] table, int rowOff, int dim, long row, float[] grad, int gOff) {
        float sq = 0f;
        for (int j = 0; j < dim; j++) {
            float g = grad[gOff + j];
            sq += g * g;
        }
        int r = (int) Objects.checkIndex(row, accumulator.length);
        float acc = accumulator[r] + sq / dim;
        accumulator[r] = acc;
        final float scale = lr / ((float) Math.sqrt(acc) + eps);
        for (int j = 0; j < dim; j++) table[rowOff + j] -= scale * grad[gOff + j];
    }

    /**
     * One loop per table; the row update goes through {@link Vec#axpy} (SIMD when present), whose
     * {@code w + g·(−scale)} has the bits of {@code w − scale·g}; the mean square stays a scalar loop in order.
     */
    @Override
    public void applyRows(float[] table, int dim, int[] ids, int idOff, int n, float[] grads, int gOff) {
        final float[] acc = accumulator;
        for (int j = 0; j < n; j++) {
            int r = ids[idOff + j], g = gOff + j * dim;
            float sq = 0f;
            for (int k = 0; k < dim; k++) {
                float x = grads[g + k];
                sq += x * x;
            }
            float a = acc[Objects.checkIndex(r, acc.length)] + sq / dim;
            acc[r] = a;
            Vec.axpy(dim, -(lr / ((float) Math.sqrt(a) + eps)), grads, g, table, r * dim);
        }
    }

    /** G per row: the live array, not a copy. */
    @Override
    public float[] state() {
        return accumulator;
    }

    public double lr() {
        return lr;
    }

    public double eps() {
        return eps;
    }
}
