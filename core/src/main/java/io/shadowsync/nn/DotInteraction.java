package io.shadowsync.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * DLRM feature interaction: for each example, F vectors of dimension D give the F(F−1)/2 pairwise dot
 * products, in PyTorch {@code tril_indices(F, F, offset=-1)} order: for i in 1..F−1, for j in 0..i−1, pair
 * {@code p = i(i−1)/2 + j}.
 *
 * <p>Layout: vector f of example b starts at {@code tOff + b·exStride + f·fieldStride} (D contiguous floats),
 * so both example-major ({@code exStride = F·D, fieldStride = D}) and field-major ({@code exStride = D,
 * fieldStride = B·D}, one embedding table's rows per block) inputs work without copying. Pairs of example b
 * go to {@code z[zOff + b·ldz + p]}. No parameters; stateless; shared by workers.
 *
 * <p>The fast path works on one example's F×D block at a time with Vector API FMAs over D; {@link
 * #forwardNaive}/{@link #backwardNaive} are the scalar references the tests compare it with.
 */
public final class DotInteraction {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

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

    // z[B × pairs] (row stride ldz) = <t[b,i], t[b,j]> for j < i
    public void forward(float[] z, int zOff, int ldz, float[] t, int tOff, int exStride, int fieldStride, int B) {
        final int F = fields, D = dim, upper = S.loopBound(D);
        for (int b = 0; b < B; b++) {
            int base = tOff + b * exStride;
            int zo = zOff + b * ldz;
            for (int i = 1; i < F; i++) {
                int ti = base + i * fieldStride;
                for (int j = 0; j < i; j++) {
                    int tj = base + j * fieldStride;
                    float s;
                    if (upper > 0) {
                        FloatVector acc = FloatVector.fromArray(S, t, ti).mul(FloatVector.fromArray(S, t, tj));
                        for (int d = S.length(); d < upper; d += S.length()) {
                            acc = FloatVector.fromArray(S, t, ti + d).fma(FloatVector.fromArray(S, t, tj + d), acc);
                        }
                        s = acc.reduceLanes(VectorOperators.ADD);
                    } else {
                        s = 0f;
                    }
                    for (int d = upper; d < D; d++) s += t[ti + d] * t[tj + d];
                    z[zo++] = s;
                }
            }
        }
    }

    /**
     * Backward of {@link #forward}: {@code dt[b,i] = Σ_{j≠i} dz[b,pair(i,j)] · t[b,j]}, written (not added)
     * into dt, which has the same layout as t and must not alias it.
     */
    // dt[B × F × D] from dz[B × pairs] (row stride ldz) and t
    public void backward(float[] dt, float[] dz, int dzOff, int ldz, float[] t, int tOff, int exStride, int fieldStride, int B) {
        final int F = fields, D = dim, L = S.length(), upper = S.loopBound(D);
        for (int b = 0; b < B; b++) {
            int base = tOff + b * exStride;
            int zo = dzOff + b * ldz;
            for (int d = 0; d < D; d++) dt[base + d] = 0f;
            // Row i collects Σ_{j<i} g·t[j] and is stored whole; the pairs (k, i) with k > i come later and add
            // into it, so no zeroing pass over dt is needed beyond field 0.
            for (int i = 1; i < F; i++) {
                int ti = base + i * fieldStride;
                int p0 = zo + i * (i - 1) / 2;
                for (int d = 0; d < upper; d += L) {
                    FloatVector vi = FloatVector.fromArray(S, t, ti + d);
                    FloatVector acc = FloatVector.zero(S);
                    for (int j = 0; j < i; j++) {
                        int tj = base + j * fieldStride + d;
                        FloatVector g = FloatVector.broadcast(S, dz[p0 + j]);
                        acc = FloatVector.fromArray(S, t, tj).fma(g, acc);
                        vi.fma(g, FloatVector.fromArray(S, dt, tj)).intoArray(dt, tj);
                    }
                    acc.intoArray(dt, ti + d);
                }
                for (int d = upper; d < D; d++) {
                    float vi = t[ti + d], acc = 0f;
                    for (int j = 0; j < i; j++) {
                        int tj = base + j * fieldStride + d;
                        float g = dz[p0 + j];
                        acc += g * t[tj];
                        dt[tj] += g * vi;
                    }
                    dt[ti + d] = acc;
                }
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
