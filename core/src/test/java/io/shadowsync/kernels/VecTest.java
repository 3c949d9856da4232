package io.shadowsync.kernels;

import static io.shadowsync.kernels.KernelChecks.SENTINEL;
import static io.shadowsync.kernels.KernelChecks.SIZES;
import static io.shadowsync.kernels.KernelChecks.ULP1;
import static io.shadowsync.kernels.KernelChecks.assertClose;
import static io.shadowsync.kernels.KernelChecks.assertSameBits;
import static io.shadowsync.kernels.KernelChecks.padded;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Each Vec kernel: the scalar twin against a double reference (one rounding per operation: within 2⁻²³ of
 * the magnitude of the terms), then the dispatching method and, where the module is here, the Vector API
 * class itself against the scalar twin bit for bit (dot: against the reference, within n·2⁻²³·Σ|x·y|,
 * since it sums in another order). Inputs sit at random offsets between sentinels that must survive.
 */
class VecTest {
    /** Whether VectorKernels can be called directly (tests run with --add-modules jdk.incubator.vector). */
    private static final boolean VECTOR_MODULE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private final SplittableRandom random = new SplittableRandom(2024);

    @Test
    void axpy() {
        for (int n : SIZES) {
            int xOff = random.nextInt(4), yOff = random.nextInt(4);
            float alpha = -0.75f;
            float[] x = padded(random, xOff, n, 3), y0 = padded(random, yOff, n, 2);
            float[] scalar = y0.clone();
            Vec.axpyScalar(n, alpha, x, xOff, scalar, yOff);
            for (int i = 0; i < n; i++) {
                double term = (double) alpha * x[xOff + i];
                assertClose(y0[yOff + i] + term, scalar[yOff + i], Math.abs(y0[yOff + i]) + Math.abs(term), ULP1, "axpy n=" + n);
            }
            assertUntouched(scalar, yOff, n, "axpyScalar");
            float[] dispatched = y0.clone();
            Vec.axpy(n, alpha, x, xOff, dispatched, yOff);
            assertSameBits(scalar, dispatched, "Vec.axpy n=" + n);
            float[] simd = y0.clone();
            Vec.axpySimd(n, alpha, x, xOff, simd, yOff);
            assertSameBits(scalar, simd, "Vec.axpySimd n=" + n);
            if (VECTOR_MODULE) {
                float[] vector = y0.clone();
                VectorKernels.axpy(n, alpha, x, xOff, vector, yOff);
                assertSameBits(scalar, vector, "VectorKernels.axpy n=" + n);
            }
        }
    }

    @Test
    void copyCopiesExactlyTheRange() {
        for (int n : SIZES) {
            int xOff = random.nextInt(4), yOff = random.nextInt(4);
            float[] x = padded(random, xOff, n, 3), y = padded(random, yOff, n, 2), before = y.clone();
            Vec.copy(n, x, xOff, y, yOff);
            for (int i = 0; i < y.length; i++) {
                boolean inside = i >= yOff && i < yOff + n;
                assertEquals(inside ? x[xOff + i - yOff] : before[i], y[i], "n " + n + " index " + i);
            }
        }
    }

    @Test
    void dot() {
        for (int n : SIZES) {
            int xOff = random.nextInt(4), yOff = random.nextInt(4);
            float[] x = padded(random, xOff, n, 3), y = padded(random, yOff, n, 2);
            double expected = 0, magnitude = 0;
            for (int i = 0; i < n; i++) {
                double p = (double) x[xOff + i] * y[yOff + i];
                expected += p;
                magnitude += Math.abs(p);
            }
            double relTol = (n + 1) * ULP1;
            assertClose(expected, Vec.dotScalar(n, x, xOff, y, yOff), magnitude, relTol, "dotScalar n=" + n);
            assertClose(expected, Vec.dot(n, x, xOff, y, yOff), magnitude, relTol, "Vec.dot n=" + n);
            if (VECTOR_MODULE) {
                assertClose(expected, VectorKernels.dot(n, x, xOff, y, yOff), magnitude, relTol, "VectorKernels.dot n=" + n);
            }
        }
        float[] ones = new float[1000];
        java.util.Arrays.fill(ones, 1f);
        assertEquals(1000f, Vec.dot(1000, ones, 0, ones, 0), "a sum of 1000 ones is exact in any order");
        assertEquals(0f, Vec.dot(0, ones, 0, ones, 0), "an empty dot product is 0");
    }

    @Test
    void scaleAndScaleInto() {
        for (int n : SIZES) {
            int xOff = random.nextInt(4), yOff = random.nextInt(4);
            float alpha = 1.5f;
            float[] x0 = padded(random, xOff, n, 3);
            float[] scalar = x0.clone();
            Vec.scaleScalar(n, alpha, scalar, xOff);
            for (int i = 0; i < n; i++) {
                assertClose((double) alpha * x0[xOff + i], scalar[xOff + i], Math.abs(alpha * x0[xOff + i]), ULP1, "scale");
            }
            assertUntouched(scalar, xOff, n, "scaleScalar");
            float[] dispatched = x0.clone();
            Vec.scale(n, alpha, dispatched, xOff);
            assertSameBits(scalar, dispatched, "Vec.scale n=" + n);

            // scaleInto writes alpha·x into y and gives the same numbers as scale in place
            float[] y0 = padded(random, yOff, n, 2);
            float[] into = y0.clone();
            Vec.scaleIntoScalar(n, alpha, x0, xOff, into, yOff);
            for (int i = 0; i < n; i++) assertEquals(scalar[xOff + i], into[yOff + i], "scaleIntoScalar");
            assertUntouched(into, yOff, n, "scaleIntoScalar");
            float[] intoDispatched = y0.clone();
            Vec.scaleInto(n, alpha, x0, xOff, intoDispatched, yOff);
            assertSameBits(into, intoDispatched, "Vec.scaleInto n=" + n);
            if (VECTOR_MODULE) {
                float[] vector = x0.clone();
                VectorKernels.scale(n, alpha, vector, xOff);
                assertSameBits(scalar, vector, "VectorKernels.scale n=" + n);
                float[] vectorInto = y0.clone();
                VectorKernels.scaleInto(n, alpha, x0, xOff, vectorInto, yOff);
                assertSameBits(into, vectorInto, "VectorKernels.scaleInto n=" + n);
            }
        }
    }

    @Test
    void addRowVectorAndColumnSums() {
        for (int m : new int[] {0, 1, 3, 5}) {
            for (int n : SIZES) {
                int bOff = random.nextInt(4), yOff = random.nextInt(4);
                float[] bias = padded(random, bOff, n, 2), y0 = padded(random, yOff, m * n, 3);

                float[] rows = y0.clone();
                Vec.addRowVectorScalar(m, n, bias, bOff, rows, yOff);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double a = y0[yOff + i * n + j], b = bias[bOff + j];
                        assertClose(a + b, rows[yOff + i * n + j], Math.abs(a) + Math.abs(b), ULP1, "addRowVector");
                    }
                }
                assertUntouched(rows, yOff, m * n, "addRowVectorScalar");
                float[] rowsDispatched = y0.clone();
                Vec.addRowVector(m, n, bias, bOff, rowsDispatched, yOff);
                assertSameBits(rows, rowsDispatched, "Vec.addRowVector " + m + "×" + n);

                float[] sums = bias.clone(); // column sums accumulate into a vector that already holds values
                Vec.addColumnSumsScalar(m, n, y0, yOff, sums, bOff);
                for (int j = 0; j < n; j++) {
                    double s = bias[bOff + j], mag = Math.abs(s);
                    for (int i = 0; i < m; i++) {
                        s += y0[yOff + i * n + j];
                        mag += Math.abs(y0[yOff + i * n + j]);
                    }
                    assertClose(s, sums[bOff + j], mag, (m + 1) * ULP1, "addColumnSums");
                }
                assertUntouched(sums, bOff, n, "addColumnSumsScalar");
                float[] sumsDispatched = bias.clone();
                Vec.addColumnSums(m, n, y0, yOff, sumsDispatched, bOff);
                assertSameBits(sums, sumsDispatched, "Vec.addColumnSums " + m + "×" + n);

                if (VECTOR_MODULE) {
                    float[] vRows = y0.clone();
                    VectorKernels.addRowVector(m, n, bias, bOff, vRows, yOff);
                    assertSameBits(rows, vRows, "VectorKernels.addRowVector " + m + "×" + n);
                    float[] vSums = bias.clone();
                    VectorKernels.addColumnSums(m, n, y0, yOff, vSums, bOff);
                    assertSameBits(sums, vSums, "VectorKernels.addColumnSums " + m + "×" + n);
                }
            }
        }
    }

    @Test
    void simdDescriptionSaysWhichPathRuns() {
        String description = Vec.simdDescription();
        if (Vec.SIMD) {
            assertTrue(description.matches("Vector API, \\d+-bit \\(\\d+ floats\\)"), description);
        } else {
            assertTrue(description.startsWith("scalar"), description);
        }
        assertEquals(VECTOR_MODULE && VectorKernels.worthUsing(), Vec.SIMD, "SIMD follows the boot layer");
    }

    // everything before off and after off + n is still the sentinel
    private static void assertUntouched(float[] a, int off, int n, String what) {
        for (int i = 0; i < a.length; i++) {
            if (i < off || i >= off + n) assertEquals(SENTINEL, a[i], what + ": element " + i + " is outside the range");
        }
    }
}
