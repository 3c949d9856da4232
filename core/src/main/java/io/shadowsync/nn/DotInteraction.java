package io.shadowsync.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * DLRM feature interaction: for each example, F vectors of dimension D give the F(F−1)/2 pairwise dot
 * products, in PyTorch {@code tril_indices(F, F, offset=-1)} order: for i in 1..F−1, for j in 0..i−1, pair
 * {@code p = i(i−1)/2 + j}.
 *
 * <p>Layout: vector f of example b starts at {@code tOff + b·exStride + f·fieldStride} (D contiguous floats),
 * so both example-major ({@code exStride = F·D, fieldStride = D}) and field-major ({@code exStride = D,
 * fieldStride = B·D}, one embedding table's rows per block) inputs work without copying. Pairs of example b
 * go to {@code z[zOff + b·ldz + p]}. No parameters; stateless; shared by workers, each passing its own
 * {@code scratch} of {@link #scratchSize()} floats.
 *
 * <p>Per example both directions are tiny matrix products, done with a register-blocked Vector API kernel
 * (4 rows × 2 vectors of accumulators, so FMAs do not wait on each other): forward computes the lower
 * triangle of {@code G = T·Tᵀ} from a transposed D×F copy of the example's block, backward computes
 * {@code dT = S·T} with S the symmetric F×F matrix of pair gradients (zero diagonal).
 * {@link #forwardNaive}/{@link #backwardNaive} are the scalar references the tests compare them with.
 */
public final class DotInteraction {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    public final int fields;
    public final int dim;
    /** fields rounded up to a multiple of the vector length: the row length of the transposed block. */
    private final int fpad;

    public DotInteraction(int fields, int dim) {
        if (fields < 2 || dim < 1) throw new IllegalArgumentException("dot interaction needs at least 2 fields of dimension ≥ 1, got F=" + fields + " D=" + dim);
        this.fields = fields;
        this.dim = dim;
        this.fpad = (fields + L - 1) / L * L;
    }

    /** Number of pairwise products per example, F(F−1)/2. */
    public int pairs() {
        return fields * (fields - 1) / 2;
    }

    /** Floats of per-worker scratch that {@link #forward} and {@link #backward} need. */
    public int scratchSize() {
        return Math.max(dim * fpad + fields * fpad, fields * fields);
    }

    // z[B × pairs] (row stride ldz) = <t[b,i], t[b,j]> for j < i
    public void forward(float[] z, int zOff, int ldz, float[] t, int tOff, int exStride, int fieldStride, int B, float[] scratch) {
        final int F = fields, D = dim, fp = fpad, gOff = D * fp;
        final float[] tt = scratch;
        for (int d = 0; d < D; d++) {
            for (int f = F; f < fp; f++) tt[d * fp + f] = 0f;
        }
        for (int b = 0; b < B; b++) {
            int base = tOff + b * exStride;
            // tt[D × fpad] = the example's block transposed
            for (int f = 0; f < F; f++) {
                int tf = base + f * fieldStride;
                for (int d = 0; d < D; d++) tt[d * fp + f] = t[tf + d];
            }
            // G[(F−1) × fpad] = rows 1..F−1 of T · tt; row block i0 needs columns < i0 + 4 only
            smallGemm(F - 1, fp, D, t, base + fieldStride, fieldStride, tt, 0, fp, scratch, gOff, fp, true);
            copyLowerTriangle(scratch, gOff, z, zOff + b * ldz);
        }
    }

    /**
     * Copies row i of G (columns 0..i−1, for i = 1..F−1) to pairs i(i−1)/2 onward, in whole vectors: a row's
     * last vector may spill past its i values, but only into the rows copied after it, which overwrite the
     * spill; near the end of the example's pairs, where a spill would leave them, it copies scalars.
     */
    private void copyLowerTriangle(float[] g, int gOff, float[] z, int zo) {
        final int F = fields, fp = fpad, end = zo + pairs();
        for (int i = 1; i < F; i++) {
            int src = gOff + (i - 1) * fp, dst = zo + i * (i - 1) / 2;
            int c = 0;
            for (; c < i && dst + c + L <= end; c += L) FloatVector.fromArray(S, g, src + c).intoArray(z, dst + c);
            for (; c < i; c++) z[dst + c] = g[src + c];
        }
    }

    /**
     * Backward of {@link #forward}: {@code dt[b,i] = Σ_{j≠i} dz[b,pair(i,j)] · t[b,j]}, written (not added)
     * into dt, which has the same layout as t and must not alias it.
     */
    // dt[B × F × D] = S_b · t_b, S_b[F×F] symmetric from dz[b] (row stride ldz)
    public void backward(float[] dt, float[] dz, int dzOff, int ldz, float[] t, int tOff, int exStride, int fieldStride, int B, float[] scratch) {
        final int F = fields;
        final float[] sm = scratch;
        for (int b = 0; b < B; b++) {
            int base = tOff + b * exStride;
            int p = dzOff + b * ldz;
            for (int i = 0; i < F; i++) {
                sm[i * F + i] = 0f;
                for (int j = 0; j < i; j++) {
                    float g = dz[p++];
                    sm[i * F + j] = g;
                    sm[j * F + i] = g;
                }
            }
            smallGemm(F, dim, F, sm, 0, F, t, base, fieldStride, dt, base, fieldStride, false);
        }
    }

    /**
     * {@code C[m×n] = A[m×k] · B[k×n]} (row-major, leading dimensions given), rows in blocks of 4 with two
     * vectors of columns at a time: eight independent FMA chains, one B load per four FMAs. The last block
     * repeats row m−1 instead of branching (it stores the same values twice). With {@code lower}, row block
     * i0 computes only the columns below i0 + 4 (G's lower triangle when A starts at row 1).
     */
    private static void smallGemm(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                  float[] c, int cOff, int ldc, boolean lower) {
        for (int i0 = 0; i0 < m; i0 += 4) {
            int a0 = aOff + i0 * lda, a1 = aOff + Math.min(i0 + 1, m - 1) * lda;
            int a2 = aOff + Math.min(i0 + 2, m - 1) * lda, a3 = aOff + Math.min(i0 + 3, m - 1) * lda;
            int c0 = cOff + i0 * ldc, c1 = cOff + Math.min(i0 + 1, m - 1) * ldc;
            int c2 = cOff + Math.min(i0 + 2, m - 1) * ldc, c3 = cOff + Math.min(i0 + 3, m - 1) * ldc;
            int nb = lower ? Math.min(n, (i0 + 3 + L) / L * L) : n;
            int nv = S.loopBound(nb);
            int col = 0;
            for (; col + 2 * L <= nv; col += 2 * L) {
                FloatVector x00 = FloatVector.zero(S), x01 = x00, x10 = x00, x11 = x00, x20 = x00, x21 = x00, x30 = x00, x31 = x00;
                for (int p = 0, bp = bOff + col; p < k; p++, bp += ldb) {
                    FloatVector v0 = FloatVector.fromArray(S, b, bp), v1 = FloatVector.fromArray(S, b, bp + L);
                    FloatVector s0 = FloatVector.broadcast(S, a[a0 + p]), s1 = FloatVector.broadcast(S, a[a1 + p]);
                    FloatVector s2 = FloatVector.broadcast(S, a[a2 + p]), s3 = FloatVector.broadcast(S, a[a3 + p]);
                    x00 = v0.fma(s0, x00);
                    x01 = v1.fma(s0, x01);
                    x10 = v0.fma(s1, x10);
                    x11 = v1.fma(s1, x11);
                    x20 = v0.fma(s2, x20);
                    x21 = v1.fma(s2, x21);
                    x30 = v0.fma(s3, x30);
                    x31 = v1.fma(s3, x31);
                }
                x30.intoArray(c, c3 + col);
                x31.intoArray(c, c3 + col + L);
                x20.intoArray(c, c2 + col);
                x21.intoArray(c, c2 + col + L);
                x10.intoArray(c, c1 + col);
                x11.intoArray(c, c1 + col + L);
                x00.intoArray(c, c0 + col);
                x01.intoArray(c, c0 + col + L);
            }
            for (; col < nv; col += L) {
                FloatVector x0 = FloatVector.zero(S), x1 = x0, x2 = x0, x3 = x0;
                for (int p = 0, bp = bOff + col; p < k; p++, bp += ldb) {
                    FloatVector v = FloatVector.fromArray(S, b, bp);
                    x0 = v.fma(FloatVector.broadcast(S, a[a0 + p]), x0);
                    x1 = v.fma(FloatVector.broadcast(S, a[a1 + p]), x1);
                    x2 = v.fma(FloatVector.broadcast(S, a[a2 + p]), x2);
                    x3 = v.fma(FloatVector.broadcast(S, a[a3 + p]), x3);
                }
                x3.intoArray(c, c3 + col);
                x2.intoArray(c, c2 + col);
                x1.intoArray(c, c1 + col);
                x0.intoArray(c, c0 + col);
            }
            for (; col < nb; col++) {
                float y0 = 0f, y1 = 0f, y2 = 0f, y3 = 0f;
                for (int p = 0, bp = bOff + col; p < k; p++, bp += ldb) {
                    float v = b[bp];
                    y0 += a[a0 + p] * v;
                    y1 += a[a1 + p] * v;
                    y2 += a[a2 + p] * v;
                    y3 += a[a3 + p] * v;
                }
                c[c3 + col] = y3;
                c[c2 + col] = y2;
                c[c1 + col] = y1;
                c[c0 + col] = y0;
            }
        }
    }

    /** Scalar reference of {@link #forward} (double accumulation). */
    public void forwardNaive(float[] z, int zOff, int ldz, float[] t, int tOff, int exStride, int fieldStride, int B) {
        for (int b = 0; b < B; b++) {
            int p = 0;
            for (int i = 1; i < fields; i++) {
                for (int j = 0; j < i; j++) {
                    double s = 0;
                    for (int d = 0; d < dim; d++) {
                        s += (double) t[tOff + b * exStride + i * fieldStride + d] * t[tOff + b * exStride + j * fieldStride + d];
                    }
                    z[zOff + b * ldz + p++] = (float) s;
                }
            }
        }
    }

    /** Scalar reference of {@link #backward}. */
    public void backwardNaive(float[] dt, float[] dz, int dzOff, int ldz, float[] t, int tOff, int exStride, int fieldStride, int B) {
        for (int b = 0; b < B; b++) {
            for (int f = 0; f < fields; f++) {
                for (int d = 0; d < dim; d++) dt[tOff + b * exStride + f * fieldStride + d] = 0f;
            }
            int p = 0;
            for (int i = 1; i < fields; i++) {
                for (int j = 0; j < i; j++) {
                    float g = dz[dzOff + b * ldz + p++];
                    int ti = tOff + b * exStride + i * fieldStride, tj = tOff + b * exStride + j * fieldStride;
                    for (int d = 0; d < dim; d++) {
                        dt[ti + d] += g * t[tj + d];
                        dt[tj + d] += g * t[ti + d];
                    }
                }
            }
        }
    }
}
