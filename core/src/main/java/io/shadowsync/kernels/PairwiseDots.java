package io.shadowsync.kernels;

/**
 * Pairwise dot products of F vectors per example (DLRM's feature interaction), batched across examples.
 *
 * <p>Layout of the vectors, "blocked lane-major": examples are taken in strips of W = {@link #blockWidth()}
 * (the SIMD width), and element d of vector f of example b is at {@link #offset}{@code (F, D, b, f, d) =
 * (b/W)·F·D·W + (f·D + d)·W + b mod W}: within a strip each (f, d) is one SIMD vector of W examples, and a
 * strip's F·D vectors are contiguous (13.5 KB for DLRM's 27 × 16 at W = 8, so a strip works from L1). The
 * kernels run a whole vector of examples at a time, so every lane does useful work whatever F and D are and
 * nothing is transposed per example. Pair {@code p = i(i−1)/2 + j} (j &lt; i, PyTorch's
 * {@code tril_indices(F, F, -1)} order) of example b is {@code z[zOff + p·ldz + b]}: the pairs form the rows of
 * a transposed [pairs × B] matrix, the layout a following gemm reads with {@code transA}.
 *
 * <p>Examples past B up to {@link #paddedBatch}(B) (the rest of the last strip) are computed as scratch: the
 * vector buffers must hold {@link #blockedSize} floats, {@code ldz} must be at least paddedBatch(B), and
 * those lanes are read (any finite values) and written (garbage). {@link #leadingDimension} gives a good ldz.
 *
 * <p>The Vector API path ({@code PairwiseDotsVector}, when {@link Vec#simdDescription()} says so) sums each
 * dot product over d, and each backward sum over j, in the same order as the scalar twins here, but with
 * fused multiply-adds, so the two differ by rounding only. Nothing is allocated; kernels write only their
 * outputs (and the caller's scratch), so workers share nothing but the read-only inputs.
 */
public final class PairwiseDots {
    private PairwiseDots() {}

    /** Examples per strip: the SIMD width, or 8 on the scalar path. */
    public static int blockWidth() {
        return Vec.SIMD ? PairwiseDotsVector.L : 8;
    }

    /** Where element d of vector f of example b lives, relative to the start of the blocked buffer. */
    public static int offset(int F, int D, int b, int f, int d) {
        int W = blockWidth();
        return (b / W) * F * D * W + (f * D + d) * W + b % W;
    }

    /** Floats a blocked buffer of F vectors of dimension D needs for B examples. */
    public static int blockedSize(int F, int D, int B) {
        return Math.multiplyExact(paddedBatch(B), F * D);
    }

    /** The examples the kernels compute: B rounded up to a whole strip. */
    public static int paddedBatch(int B) {
        int W = blockWidth();
        return (B + W - 1) / W * W;
    }

    /**
     * A row stride for the pair matrix z of batches of up to B examples: {@link #paddedBatch}(B), plus one strip
     * when that is a multiple of 64 floats (rows 256 bytes apart fall into the same few L1 sets).
     */
    public static int leadingDimension(int B) {
        int ld = paddedBatch(Math.max(B, 1));
        return ld % 64 == 0 ? ld + blockWidth() : ld;
    }

    /** Number of pairs F(F−1)/2. */
    public static int pairs(int F) {
        return F * (F - 1) / 2;
    }

    /** Floats of scratch {@link #backward} needs: one strip of the pair gradients. */
    public static int backwardScratchSize(int F) {
        return pairs(F) * blockWidth();
    }

    // z[p][b] = Σ_d u[b, i, d] · u[b, j, d] for p = i(i−1)/2 + j, j < i < F, b < B (u blocked)
    public static void forward(int F, int D, int B, float[] u, int uOff, float[] z, int zOff, int ldz) {
        check(F, D, B, ldz);
        if (B == 0) return;
        if (Vec.SIMD) PairwiseDotsVector.forward(F, D, B, u, uOff, z, zOff, ldz);
        else forwardScalar(F, D, B, u, uOff, z, zOff, ldz);
    }

    /**
     * Backward of {@link #forward}: {@code du[b, i, d] = Σ_{j≠i} dz[pair(i,j)][b] · u[b, j, d]}, written (not
     * added), j ascending. du is blocked like u and must not alias u or dz; scratch holds at least
     * {@link #backwardScratchSize} floats.
     */
    // du[b, i, d] = Σ_{j ≠ i, ascending} dz[pair(i, j)][b] · u[b, j, d]
    public static void backward(int F, int D, int B, float[] u, int uOff, float[] dz, int dzOff, int lddz,
                                float[] du, int duOff, float[] scratch) {
        check(F, D, B, lddz);
        if (scratch.length < backwardScratchSize(F)) {
            throw new IllegalArgumentException("pairwise-dots backward needs " + backwardScratchSize(F) + " floats of scratch, got " + scratch.length);
        }
        if (B == 0) return;
        if (Vec.SIMD) PairwiseDotsVector.backward(F, D, B, u, uOff, dz, dzOff, lddz, du, duOff, scratch);
        else backwardScalar(F, D, B, u, uOff, dz, dzOff, lddz, du, duOff);
    }

    /** Scalar twin of {@link #forward}: the same sums in the same order, multiply then add. */
    public static void forwardScalar(int F, int D, int B, float[] u, int uOff, float[] z, int zOff, int ldz) {
        for (int b = 0; b < B; b++) {
            int ub = uOff + offset(F, D, b, 0, 0), W = blockWidth();
            for (int i = 1, p = 0; i < F; i++) {
                for (int j = 0; j < i; j++, p++) {
                    float s = 0f;
                    for (int d = 0; d < D; d++) s += u[ub + (i * D + d) * W] * u[ub + (j * D + d) * W];
                    z[zOff + p * ldz + b] = s;
                }
            }
        }
    }

    /** Scalar twin of {@link #backward}: the same sums in the same order (j ascending), multiply then add. */
    public static void backwardScalar(int F, int D, int B, float[] u, int uOff, float[] dz, int dzOff, int lddz,
                                      float[] du, int duOff) {
        for (int b = 0; b < B; b++) {
            int rel = offset(F, D, b, 0, 0), W = blockWidth();
            for (int i = 0; i < F; i++) {
                for (int d = 0; d < D; d++) {
                    float s = 0f;
                    for (int j = 0; j < F; j++) {
                        if (j == i) continue;
                        int p = i > j ? i * (i - 1) / 2 + j : j * (j - 1) / 2 + i;
                        s += dz[dzOff + p * lddz + b] * u[uOff + rel + (j * D + d) * W];
                    }
                    du[duOff + rel + (i * D + d) * W] = s;
                }
            }
        }
    }

    private static void check(int F, int D, int B, int ld) {
        if (F < 2 || D < 1 || B < 0) {
            throw new IllegalArgumentException("pairwise dots need F ≥ 2 vectors of dimension D ≥ 1 and B ≥ 0 examples, got F="
                    + F + " D=" + D + " B=" + B);
        }
        if (ld < paddedBatch(B)) {
            throw new IllegalArgumentException("row stride " + ld + " of the pair matrix is less than the " + paddedBatch(B)
                    + " lanes a batch of " + B + " takes here (see PairwiseDots.leadingDimension)");
        }
    }
}
