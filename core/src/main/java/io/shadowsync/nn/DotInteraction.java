package io.shadowsync.nn;

import io.shadowsync.kernels.PairwiseDots;

/**
 * DLRM feature interaction: for each example, F vectors of dimension D give the F(F−1)/2 pairwise dot
 * products, in PyTorch {@code tril_indices(F, F, offset=-1)} order: for i in 1..F−1, for j in 0..i−1, pair
 * {@code p = i(i−1)/2 + j}.
 *
 * <p>Layout, batched across examples (see {@link PairwiseDots}): the vectors sit "blocked lane-major", element
 * d of vector f of example b at {@code tOff + }{@link #offset}{@code (b, f, d)}, in a buffer of
 * {@link #blockedSize} floats; pair p of example b goes to {@code z[zOff + p·ldz + b]}, so the pairs form the
 * rows of a transposed [pairs × B] matrix that the next layer reads with a transposed gemm
 * ({@link MlpStack#forwardTransposedInput}). Every SIMD lane is an example, so no lane is wasted on the
 * triangle's ragged rows and nothing is transposed per example. ldz comes from {@link #leadingDimension};
 * lanes B..{@link PairwiseDots#paddedBatch}(B) are scratch.
 *
 * <p>No parameters; stateless; shared by workers, each with its own {@link #scratchSize()} floats of scratch.
 * {@link #forwardNaive}/{@link #backwardNaive} (double accumulation) are the references the tests compare the
 * kernels with.
 */
public final class DotInteraction {
    public final int fields;
    public final int dim;

    public DotInteraction(int fields, int dim) {
        if (fields < 2 || dim < 1) throw new IllegalArgumentException("dot interaction needs at least 2 fields of dimension ≥ 1, got F=" + fields + " D=" + dim);
        this.fields = fields;
        this.dim = dim;
    }

    /** Number of pairwise products per example, F(F−1)/2. */
    public int pairs() {
        return fields * (fields - 1) / 2;
    }

    /** Row stride of the pair matrix for batches of up to B examples. */
    public static int leadingDimension(int B) {
        return PairwiseDots.leadingDimension(B);
    }

    /** Where element d of vector f of example b lives in the blocked vector buffer. */
    public int offset(int b, int f, int d) {
        return PairwiseDots.offset(fields, dim, b, f, d);
    }

    /** Floats of a blocked vector buffer for up to B examples. */
    public int blockedSize(int B) {
        return PairwiseDots.blockedSize(fields, dim, B);
    }

    /** Floats of per-worker scratch {@link #backward} needs. */
    public int scratchSize() {
        return PairwiseDots.backwardScratchSize(fields);
    }

    // z[pairs × ldz] ← <t[b, i, ·], t[b, j, ·]> for j < i, t blocked
    public void forward(float[] z, int zOff, int ldz, float[] t, int tOff, int B) {
        PairwiseDots.forward(fields, dim, B, t, tOff, z, zOff, ldz);
    }

    /**
     * Backward of {@link #forward}: {@code dt[b, i, d] = Σ_{j≠i} dz[pair(i,j)][b] · t[b, j, d]}, written (not
     * added) into dt, which is blocked like t and must not alias t or dz.
     */
    // dt[b, ·, ·] ← S_b · t_b, S_b[F×F] symmetric from dz[pairs × lddz] (zero diagonal)
    public void backward(float[] dt, int dtOff, float[] dz, int dzOff, int lddz, float[] t, int tOff, int B, float[] scratch) {
        PairwiseDots.backward(fields, dim, B, t, tOff, dz, dzOff, lddz, dt, dtOff, scratch);
    }

    /** Reference of {@link #forward} (double accumulation, examples 0..B−1 only). */
    public void forwardNaive(float[] z, int zOff, int ldz, float[] t, int tOff, int B) {
        for (int b = 0; b < B; b++) {
            int p = 0;
            for (int i = 1; i < fields; i++) {
                for (int j = 0; j < i; j++) {
                    double s = 0;
                    for (int d = 0; d < dim; d++) s += (double) t[tOff + offset(b, i, d)] * t[tOff + offset(b, j, d)];
                    z[zOff + p++ * ldz + b] = (float) s;
                }
            }
        }
    }

    /** Reference of {@link #backward} (double accumulation, examples 0..B−1 only). */
    public void backwardNaive(float[] dt, int dtOff, float[] dz, int dzOff, int lddz, float[] t, int tOff, int B) {
        double[] acc = new double[fields * dim];
        for (int b = 0; b < B; b++) {
            java.util.Arrays.fill(acc, 0);
            int p = 0;
            for (int i = 1; i < fields; i++) {
                for (int j = 0; j < i; j++) {
                    double g = dz[dzOff + p++ * lddz + b];
                    for (int d = 0; d < dim; d++) {
                        acc[i * dim + d] += g * t[tOff + offset(b, j, d)];
                        acc[j * dim + d] += g * t[tOff + offset(b, i, d)];
                    }
                }
            }
            for (int f = 0; f < fields; f++) {
                for (int d = 0; d < dim; d++) dt[dtOff + offset(b, f, d)] = (float) acc[f * dim + d];
            }
        }
    }
}
