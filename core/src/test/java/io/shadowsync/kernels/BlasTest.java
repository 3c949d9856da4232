package io.shadowsync.kernels;

import static io.shadowsync.kernels.KernelChecks.SENTINEL;
import static io.shadowsync.kernels.KernelChecks.ULP1;
import static io.shadowsync.kernels.KernelChecks.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every gemm backend that loads here against a double-precision reference written out below.
 * Tolerance: |C − ref| ≤ (k + 2)·2⁻²³·(|alpha|·Σ_p |a_ip·b_pj| + |beta·c_ij|), the textbook bound for a
 * k-term float dot product in any order (γ_k ≈ k·2⁻²⁴), doubled, plus the final scaling and rounding.
 */
class BlasTest {
    private static final int[] DIMS = {0, 1, 2, 3, 7, 8, 9, 15, 17, 33};
    private static final float[] ALPHAS = {1f, -0.5f, 2.25f};
    private static final float[] BETAS = {0f, 1f, 0.5f, -1.5f};

    static List<Blas.Backend> backends() {
        List<Blas.Backend> out = new ArrayList<>();
        for (Blas.Backend b : Blas.Backend.values()) if (Blas.isAvailable(b)) out.add(b);
        return out;
    }

    /** One gemm call: sizes, flags, scalars, offsets and leading dimensions (≥ the row width). */
    private record Case(boolean transA, boolean transB, int m, int n, int k, float alpha, float beta,
                        int aOff, int lda, int bOff, int ldb, int cOff, int ldc) {
        int aRows() { return transA ? k : m; }
        int aCols() { return transA ? m : k; }
        int bRows() { return transB ? n : k; }
        int bCols() { return transB ? k : n; }
    }

    private static Case randomCase(SplittableRandom r, boolean transA, boolean transB, int m, int n, int k) {
        float alpha = ALPHAS[r.nextInt(ALPHAS.length)];
        float beta = BETAS[r.nextInt(BETAS.length)];
        int aCols = transA ? m : k, bCols = transB ? k : n;
        return new Case(transA, transB, m, n, k, alpha, beta,
                r.nextInt(6), aCols + r.nextInt(4), r.nextInt(6), bCols + r.nextInt(4), r.nextInt(6), n + r.nextInt(4));
    }

    // a matrix of rows×cols at off with leading dimension ld, every other element (gaps, head, tail) a sentinel
    private static float[] matrix(SplittableRandom r, int off, int rows, int cols, int ld) {
        float[] x = new float[off + Math.max(0, rows * ld) + 3];
        Arrays.fill(x, SENTINEL);
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) x[off + i * ld + j] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    /** Runs the case on backend and checks C against the reference, and that nothing outside C's window moved. */
    private static void check(Blas.Backend backend, Case t, SplittableRandom r) {
        float[] a = matrix(r, t.aOff(), t.aRows(), t.aCols(), t.lda());
        float[] b = matrix(r, t.bOff(), t.bRows(), t.bCols(), t.ldb());
        float[] c = matrix(r, t.cOff(), t.m(), t.n(), t.ldc());
        float[] a0 = a.clone(), b0 = b.clone(), c0 = c.clone();
        Blas.gemmOn(backend, t.transA(), t.transB(), t.m(), t.n(), t.k(), t.alpha(),
                a, t.aOff(), t.lda(), b, t.bOff(), t.ldb(), t.beta(), c, t.cOff(), t.ldc());
        assertArrayEquals(a0, a, "A must not be written");
        assertArrayEquals(b0, b, "B must not be written");
        boolean[] inWindow = new boolean[c.length];
        int k = t.k(), lda = t.lda(), ldb = t.ldb();
        // op(A)[i, p] = a[aRow + p·aStep], op(B)[p, j] = b[bCol + p·bStep]
        int aStep = t.transA() ? lda : 1, bStep = t.transB() ? 1 : ldb;
        for (int i = 0; i < t.m(); i++) {
            int aRow = t.aOff() + (t.transA() ? i : i * lda);
            for (int j = 0; j < t.n(); j++) {
                int bCol = t.bOff() + (t.transB() ? j * ldb : j);
                double s = 0, mag = 0;
                for (int p = 0; p < k; p++) {
                    double prod = (double) a[aRow + p * aStep] * b[bCol + p * bStep];
                    s += prod;
                    mag += Math.abs(prod);
                }
                int ci = t.cOff() + i * t.ldc() + j;
                inWindow[ci] = true;
                double old = t.beta() == 0f ? 0 : (double) t.beta() * c0[ci];
                double expected = t.alpha() * s + old;
                double magnitude = Math.abs(t.alpha()) * mag + Math.abs(old);
                double tol = (k + 2) * ULP1 * magnitude + Float.MIN_NORMAL;
                if (!(Math.abs(c[ci] - expected) <= tol)) { // a cheap test first: the message is built on failure only
                    assertClose(expected, c[ci], magnitude, (k + 2) * ULP1, backend + " " + t + " C[" + i + "," + j + "]");
                }
            }
        }
        for (int i = 0; i < c.length; i++) {
            if (!inWindow[i]) assertEquals(c0[i], c[i], backend + " " + t + ": C[" + i + "] is outside the window");
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void matchesReferenceOnRandomShapesAllTransposes(Blas.Backend backend) {
        SplittableRandom r = new SplittableRandom(11 + backend.ordinal());
        for (int flags = 0; flags < 4; flags++) {
            boolean transA = (flags & 1) != 0, transB = (flags & 2) != 0;
            for (int trial = 0; trial < 60; trial++) {
                int m = DIMS[r.nextInt(DIMS.length)], n = DIMS[r.nextInt(DIMS.length)], k = DIMS[r.nextInt(DIMS.length)];
                check(backend, randomCase(r, transA, transB, m, n, k), r);
            }
            // the degenerate sizes, each alone
            check(backend, randomCase(r, transA, transB, 1, 1, 1), r);
            check(backend, randomCase(r, transA, transB, 0, 5, 3), r);
            check(backend, randomCase(r, transA, transB, 5, 0, 3), r);
            check(backend, randomCase(r, transA, transB, 5, 3, 0), r);
        }
    }

    /**
     * The layers we train (batch×in×out) in their three gemms: forward NT, backward-data NN, backward-weights
     * TN. The MLP batches (64) and the 367-wide DLRM layer's (128) are cut to keep the test fast; in and out,
     * which set k and the leading dimensions, are the real ones, and the batch-128 layers cover k = 128 in TN.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void matchesReferenceOnModelShapes(Blas.Backend backend) {
        int[][] layers = {{8, 784, 256}, {16, 256, 128}, {64, 128, 10}, {128, 13, 64}, {128, 64, 16},
            {32, 367, 64}, {128, 64, 1}};
        SplittableRandom r = new SplittableRandom(5);
        for (int[] l : layers) {
            int batch = l[0], in = l[1], out = l[2];
            check(backend, new Case(false, true, batch, out, in, 1f, 0f, 0, in, 0, in, 0, out), r);
            check(backend, new Case(false, false, batch, in, out, 1f, 0f, 0, out, 0, in, 0, in), r);
            check(backend, new Case(true, false, out, in, batch, 1f, 1f, 0, out, 0, in, 0, in), r);
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void betaZeroOverwritesNaNInC(Blas.Backend backend) {
        float[] a = {1, 2, 3, 4}, b = {5, 6, 7, 8};
        float[] c = {Float.NaN, Float.NaN, Float.NaN, Float.NaN};
        Blas.gemmOn(backend, false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        assertArrayEquals(new float[] {19, 22, 43, 50}, c, backend.toString());
    }

    @ParameterizedTest
    @MethodSource("backends")
    void kZeroScalesCByBeta(Blas.Backend backend) {
        float[] c = {1, 2, 3, 4, 5, 6};
        // 2×2 window with ldc 3: elements 2 and 5 are outside it
        Blas.gemmOn(backend, false, false, 2, 2, 0, 1f, new float[0], 0, 0, new float[0], 0, 2, -2f, c, 0, 3);
        assertArrayEquals(new float[] {-2, -4, 3, -8, -10, 6}, c);
        float[] nan = {Float.NaN, Float.NaN};
        Blas.gemmOn(backend, true, true, 1, 2, 0, 1f, new float[0], 0, 1, new float[0], 0, 0, 0f, nan, 0, 2);
        assertArrayEquals(new float[] {0, 0}, nan, "beta 0 with k 0 clears C");
    }

    @Test
    void naiveGemmMultipliesTwoByTwo() {
        float[] a = {1, 2, 3, 4};
        float[] b = {5, 6, 7, 8};
        float[] c = new float[4];
        Blas.gemmNaive(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        assertArrayEquals(new float[] {19, 22, 43, 50}, c);
    }

    @Test
    void defaultGemmMatchesReferenceAndDescribesItsBackend() {
        SplittableRandom r = new SplittableRandom(3);
        float[] a = KernelChecks.randomArray(r, 128 * 13), b = KernelChecks.randomArray(r, 64 * 13);
        float[] c = new float[128 * 64], ref = new float[128 * 64];
        Blas.gemm(false, true, 128, 64, 13, 1f, a, 0, 13, b, 0, 13, 0f, c, 0, 64);
        Blas.gemmNaive(false, true, 128, 64, 13, 1f, a, 0, 13, b, 0, 13, 0f, ref, 0, 64);
        for (int i = 0; i < c.length; i++) assertClose(ref[i], c[i], 13, 15 * ULP1, "C[" + i + "]");
        // a toy shape below NATIVE_MIN_MNK, which automatic mode sends to the Java BLAS
        float[] small = new float[3 * 4], smallRef = new float[3 * 4];
        Blas.gemm(true, false, 3, 4, 5, -1f, a, 0, 3, b, 0, 4, 0f, small, 0, 4);
        Blas.gemmNaive(true, false, 3, 4, 5, -1f, a, 0, 3, b, 0, 4, 0f, smallRef, 0, 4);
        for (int i = 0; i < small.length; i++) assertClose(smallRef[i], small[i], 5, 7 * ULP1, "small C[" + i + "]");

        String prefix = switch (Blas.primaryBackend()) {
            case NATIVE -> "native BLAS (dev.ludovic.netlib NativeBLAS -> ";
            case JAVA -> "Java BLAS (";
            case SCALAR -> "scalar Java";
        };
        assertTrue(Blas.backend().startsWith(prefix), Blas.backend());
        assertTrue(Blas.isAvailable(Blas.Backend.SCALAR), "the scalar fallback is always there");
    }

    @Test
    void refusesShapesThatDoNotFitTheArrays() {
        float[] a = new float[6], b = new float[6], c = new float[4];
        // lda smaller than the row width of A (2×3)
        assertThrows(IllegalArgumentException.class,
                () -> Blas.gemm(false, false, 2, 2, 3, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2));
        // C needs 2·2 + offset 1 floats
        assertThrows(IllegalArgumentException.class,
                () -> Blas.gemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 1, 2));
        // negative offset: the JNI path would read before the array
        assertThrows(IllegalArgumentException.class,
                () -> Blas.gemm(true, false, 2, 2, 3, 1f, a, -1, 2, b, 0, 2, 0f, c, 0, 2));
        // transposed B is stored n×k = 2×3 and needs ldb ≥ 3
        assertThrows(IllegalArgumentException.class,
                () -> Blas.gemm(false, true, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2));
        assertThrows(IllegalArgumentException.class,
                () -> Blas.gemm(false, false, -1, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2));
        for (Blas.Backend backend : backends()) {
            assertThrows(IllegalArgumentException.class,
                    () -> Blas.gemmOn(backend, false, false, 2, 2, 3, 1f, a, 0, 3, b, 1, 2, 0f, c, 0, 2),
                    backend + ": B (3×2, ld 2) at offset 1 needs 7 floats");
        }
    }
}
