package io.shadowsync.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API twins of the kernels in {@link Vec} and of ReLU in {@link Activations}. Loaded only when
 * {@code jdk.incubator.vector} is in the boot layer ({@link Vec#SIMD} says so): every reference to this
 * class sits behind that flag, so a JVM without the module never resolves it.
 *
 * <p>Except for {@link #dot}, each method gives bit-for-bit the result of its scalar twin: the same
 * multiply and add per element, with no fused multiply-add and no reordering. dot sums in another order
 * (several vector accumulators, then a lane reduction) and so differs by rounding.
 */
final class VectorKernels {
    private VectorKernels() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /** Narrower than 4 lanes (or no SIMD at all) is not worth the Vector API's overhead. */
    static boolean worthUsing() {
        return L >= 4;
    }

    static String description() {
        return "Vector API, " + S.vectorBitSize() + "-bit (" + L + " floats)";
    }

    // y[n] += alpha · x[n]
    static void axpy(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += L) {
            FloatVector xv = FloatVector.fromArray(S, x, xOff + i);
            FloatVector.fromArray(S, y, yOff + i).add(xv.mul(alpha)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    // Σ x[n] · y[n]: four independent accumulators hide the FMA latency on long vectors
    static float dot(int n, float[] x, int xOff, float[] y, int yOff) {
        FloatVector acc0 = FloatVector.zero(S), acc1 = FloatVector.zero(S);
        FloatVector acc2 = FloatVector.zero(S), acc3 = FloatVector.zero(S);
        int i = 0;
        for (int upper = n - 4 * L; i <= upper; i += 4 * L) {
            acc0 = FloatVector.fromArray(S, x, xOff + i).fma(FloatVector.fromArray(S, y, yOff + i), acc0);
            acc1 = FloatVector.fromArray(S, x, xOff + i + L).fma(FloatVector.fromArray(S, y, yOff + i + L), acc1);
            acc2 = FloatVector.fromArray(S, x, xOff + i + 2 * L).fma(FloatVector.fromArray(S, y, yOff + i + 2 * L), acc2);
            acc3 = FloatVector.fromArray(S, x, xOff + i + 3 * L).fma(FloatVector.fromArray(S, y, yOff + i + 3 * L), acc3);
        }
        for (int upper = S.loopBound(n); i < upper; i += L) {
            acc0 = FloatVector.fromArray(S, x, xOff + i).fma(FloatVector.fromArray(S, y, yOff + i), acc0);
        }
        float s = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += x[xOff + i] * y[yOff + i];
        return s;
    }

    // y[n] = x[n]
    static void copy(int n, float[] x, int xOff, float[] y, int yOff) {
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += L) FloatVector.fromArray(S, x, xOff + i).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = x[xOff + i];
    }

    // x[n] *= alpha
    static void scale(int n, float alpha, float[] x, int xOff) {
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += L) {
            FloatVector.fromArray(S, x, xOff + i).mul(alpha).intoArray(x, xOff + i);
        }
        for (; i < n; i++) x[xOff + i] *= alpha;
    }

    // y[n] = alpha · x[n]
    static void scaleInto(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += L) {
            FloatVector.fromArray(S, x, xOff + i).mul(alpha).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] = alpha * x[xOff + i];
    }

    // y[m×n] += bias[n] on every row (row by row: y streams through once, bias stays in L1)
    static void addRowVector(int m, int n, float[] bias, int bOff, float[] y, int yOff) {
        int upper = S.loopBound(n);
        for (int i = 0, row = yOff; i < m; i++, row += n) {
            int j = 0;
            for (; j < upper; j += L) {
                FloatVector.fromArray(S, y, row + j).add(FloatVector.fromArray(S, bias, bOff + j)).intoArray(y, row + j);
            }
            for (; j < n; j++) y[row + j] += bias[bOff + j];
        }
    }

    // out[n] += Σ_i y[i, n], rows added in order 0..m-1 as the scalar twin does, so the sums match bit for bit
    static void addColumnSums(int m, int n, float[] y, int yOff, float[] out, int oOff) {
        int upper = S.loopBound(n);
        for (int i = 0, row = yOff; i < m; i++, row += n) {
            int j = 0;
            for (; j < upper; j += L) {
                FloatVector.fromArray(S, out, oOff + j).add(FloatVector.fromArray(S, y, row + j)).intoArray(out, oOff + j);
            }
            for (; j < n; j++) out[oOff + j] += y[row + j];
        }
    }

    // out[n] = inp > 0 ? inp : 0 (a compare and blend, not max: NaN and -0 map to +0 exactly as the scalar does)
    static void reluForward(float[] out, int outOff, float[] inp, int inpOff, int n) {
        FloatVector zero = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(S, inp, inpOff + i);
            VectorMask<Float> positive = v.compare(VectorOperators.GT, 0f);
            zero.blend(v, positive).intoArray(out, outOff + i);
        }
        for (; i < n; i++) {
            float v = inp[inpOff + i];
            out[outOff + i] = v > 0f ? v : 0f;
        }
    }

    // dinp[n] = out > 0 ? dout : 0
    static void reluBackward(float[] dinp, int dinpOff, float[] dout, int doutOff, float[] out, int outOff, int n) {
        FloatVector zero = FloatVector.zero(S);
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += L) {
            VectorMask<Float> active = FloatVector.fromArray(S, out, outOff + i).compare(VectorOperators.GT, 0f);
            zero.blend(FloatVector.fromArray(S, dout, doutOff + i), active).intoArray(dinp, dinpOff + i);
        }
        for (; i < n; i++) dinp[dinpOff + i] = out[outOff + i] > 0f ? dout[doutOff + i] : 0f;
    }

    // Σ x[n]·0 == 0, i.e. no NaN or ±∞ in x[n] (see Vec.allFiniteScalar); two accumulators, about 7× the scalar loop
    static boolean allFinite(int n, float[] x, int xOff) {
        FloatVector acc0 = FloatVector.zero(S), acc1 = FloatVector.zero(S);
        int i = 0;
        for (int upper = n - 2 * L; i <= upper; i += 2 * L) {
            acc0 = acc0.add(FloatVector.fromArray(S, x, xOff + i).mul(0f));
            acc1 = acc1.add(FloatVector.fromArray(S, x, xOff + i + L).mul(0f));
        }
        for (int upper = S.loopBound(n); i < upper; i += L) acc0 = acc0.add(FloatVector.fromArray(S, x, xOff + i).mul(0f));
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += x[xOff + i] * 0f;
        return s == 0f;
    }
}
